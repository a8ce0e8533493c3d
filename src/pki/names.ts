import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { z } from "zod";

/**
 * A certificate subject as ETSI EN 319 412-2 and -3 describe a natural person (and, for a
 * professional, the organisation they act for): names, the semantics-bearing serialNumber
 * (`IDCES-<DNI>`, `TINIT-<CF>`, EN 319 412-1 §5.1.3) and organizationIdentifier (`VATES-<CIF>`,
 * §5.1.4). Authorities use commonName, organizationName and countryName.
 */
export const SubjectName = z
  .object({
    country: z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166 country code"),
    commonName: z.string().trim().min(1).max(64),
    givenName: z.string().trim().min(1).max(64).optional(),
    surname: z.string().trim().min(1).max(64).optional(),
    /** EN 319 412-1 §5.1.3: three letters of the identifier type, the issuing country, a hyphen, the number. */
    serialNumber: z
      .string()
      .regex(/^(IDC|PAS|TIN|PNO|CPI|CPN)[A-Z]{2}-[A-Z0-9]{1,60}$/, "must be a semantics-bearing identifier such as IDCES-12345678Z or TINIT-RSSMRA80A01H501U")
      .optional(),
    organizationName: z.string().trim().min(1).max(64).optional(),
    /** EN 319 412-1 §5.1.4: VAT, NTR, PSD or LEI, the country, a hyphen, the identifier. */
    organizationIdentifier: z
      .string()
      .regex(/^(VAT|NTR|PSD|LEI)[A-Z]{2}-[A-Z0-9]{1,60}$/, "must be an organisation identifier such as VATES-B12345678")
      .optional(),
    organizationalUnit: z.string().trim().min(1).max(64).optional(),
    /** The holder's position in the organisation (X.520 title), as a professional's certificate states it. */
    title: z.string().trim().min(1).max(64).optional(),
  })
  .strict();
export type SubjectName = z.infer<typeof SubjectName>;

/** Attribute types (X.520) in the order they are written, from the most general. */
const ATTRIBUTES: { field: keyof SubjectName; oid: string; label: string; printable?: boolean }[] = [
  { field: "country", oid: "2.5.4.6", label: "C", printable: true },
  { field: "organizationName", oid: "2.5.4.10", label: "O" },
  { field: "organizationalUnit", oid: "2.5.4.11", label: "OU" },
  { field: "organizationIdentifier", oid: "2.5.4.97", label: "organizationIdentifier" },
  { field: "title", oid: "2.5.4.12", label: "title" },
  { field: "surname", oid: "2.5.4.4", label: "SN" },
  { field: "givenName", oid: "2.5.4.42", label: "GN" },
  { field: "serialNumber", oid: "2.5.4.5", label: "serialNumber", printable: true },
  { field: "commonName", oid: "2.5.4.3", label: "CN" },
];

/**
 * pkijs writes every attribute of a name into one multi-valued RDN; certificates have one
 * attribute per RDN (RFC 5280 §4.1.2.4 in practice, and ETSI's profiles): a SET each.
 */
class SingleValuedNames extends pkijs.RelativeDistinguishedNames {
  override toSchema(): asn1js.Sequence {
    return new asn1js.Sequence({ value: this.typesAndValues.map((t) => new asn1js.Set({ value: [t.toSchema()] })) });
  }
}

/** The name as X.501 encodes it: one attribute per RDN; countryName and serialNumber are PrintableString. */
export function distinguishedName(name: SubjectName): pkijs.RelativeDistinguishedNames {
  const typesAndValues = ATTRIBUTES.filter((a) => name[a.field] !== undefined).map(
    (a) =>
      new pkijs.AttributeTypeAndValue({
        type: a.oid,
        value: a.printable ? new asn1js.PrintableString({ value: name[a.field]! }) : new asn1js.Utf8String({ value: name[a.field]! }),
      }),
  );
  return new SingleValuedNames({ typesAndValues });
}

/** The name for people and logs, most specific first (as RFC 4514 writes it). */
export function nameText(name: SubjectName): string {
  return ATTRIBUTES.filter((a) => name[a.field] !== undefined)
    .reverse()
    .map((a) => `${a.label}=${name[a.field]!.replace(/([,+"\\<>;])/g, "\\$1")}`)
    .join(", ");
}

/** A parsed name (a certificate's subject or issuer) for people and logs, most specific first. */
export function rdnText(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((t) => `${ATTRIBUTES.find((a) => a.oid === t.type)?.label ?? t.type}=${String(t.value.valueBlock.value).replace(/([,+"\\<>;])/g, "\\$1")}`)
    .reverse()
    .join(", ");
}
