import * as asn1js from "asn1js";
import type * as pkijs from "pkijs";
import { bytes, digest, hashByOid, owned } from "./algorithms.ts";
import { verifySignedData } from "./signatures.ts";
import { validateChain } from "./validation.ts";

/**
 * Electronic identity documents (ICAO Doc 9303): what a phone reads from the chip over NFC, and
 * passive authentication of it (part 11 §5.1): the Document Security Object (EF.SOD, a CMS
 * SignedData) is signed by a Document Signer certified by a CSCA of the configured list, and the
 * hash of every data group read is the one the SOD states. Then the data: DG1, the MRZ (part 10
 * §4.7.1, here the TD1 of identity cards); DG11, additional personal details (§4.7.11), where the
 * Italian CIE keeps the codice fiscale as the personal number.
 */
/** id-icao-mrtd-security-ldsSecurityObject: what an SOD signs (part 10 §4.6.2.2). */
export const LDS_SECURITY_OBJECT = "2.23.136.1.1.1";

export interface ChipData {
  dg1: Uint8Array;
  dg11?: Uint8Array;
  sod: Uint8Array;
}

export interface Mrz {
  documentCode: string;
  issuingState: string;
  documentNumber: string;
  /** YYMMDD. */
  birthDate: string;
  sex: "M" | "F" | null;
  /** YYMMDD. */
  expiryDate: string;
  nationality: string;
  surname: string;
  givenNames: string;
}

export interface PersonalDetails {
  fullName?: string;
  personalNumber?: string;
  /** YYYYMMDD. */
  birthDate?: string;
  placeOfBirth?: string;
}

export type PassiveAuthentication =
  | { ok: true; documentSigner: pkijs.Certificate; mrz: Mrz; details: PersonalDetails | null }
  | { ok: false; problem: "malformed" | "signature" | "untrusted" | "hash_mismatch"; detail: string };

/** A data group's TLV: an application-class tag (DG1 '61', DG11 '6B', EF.SOD '77') around its content. */
function unwrap(data: Uint8Array, tagNumber: number): asn1js.BaseBlock[] {
  const parsed = asn1js.fromBER(owned(data));
  const block = parsed.result;
  if (parsed.offset === -1 || block.idBlock.tagClass !== 2 || block.idBlock.tagNumber !== tagNumber || !(block instanceof asn1js.Constructed)) {
    throw new TypeError(`not an ICAO data element with tag ${tagNumber}`);
  }
  return block.valueBlock.value;
}

const valueOf = (element: asn1js.BaseBlock) => bytes((element as asn1js.Primitive).valueBlock.valueHexView);

/** ICAO check digit (part 3 §4.9): weights 7, 3, 1; digits as themselves, A–Z as 10–35, '<' as 0. */
export function checkDigit(field: string): string {
  const weights = [7, 3, 1];
  let sum = 0;
  for (const [i, c] of [...field].entries()) {
    const value = c === "<" ? 0 : /\d/.test(c) ? Number(c) : c.charCodeAt(0) - 55;
    sum += value * weights[i % 3]!;
  }
  return String(sum % 10);
}

/** DG1 of an identity card: the TD1 MRZ, three lines of 30, with its check digits verified. */
export function parseDg1(dg1: Uint8Array): Mrz {
  const mrzElement = unwrap(dg1, 1).find((e) => e.idBlock.tagClass === 2 && e.idBlock.tagNumber === 31);
  if (!mrzElement) throw new TypeError("DG1 has no MRZ");
  const mrz = valueOf(mrzElement).toString("latin1");
  if (mrz.length !== 90 || !/^[A-Z0-9<]+$/.test(mrz)) throw new TypeError("the MRZ is not a TD1 (3 × 30 characters)");
  const [l1, l2, l3] = [mrz.slice(0, 30), mrz.slice(30, 60), mrz.slice(60, 90)];
  const documentNumber = l1.slice(5, 14);
  const checks: [string, string][] = [
    [documentNumber, l1[14]!],
    [l2.slice(0, 6), l2[6]!],
    [l2.slice(8, 14), l2[14]!],
    [l1.slice(5, 30) + l2.slice(0, 7) + l2.slice(8, 15) + l2.slice(18, 29), l2[29]!],
  ];
  for (const [field, digit] of checks) if (checkDigit(field) !== digit) throw new TypeError("an MRZ check digit is wrong");
  const [surname = ""] = l3.split("<<");
  const clean = (s: string) => s.replace(/<+$/, "").replace(/</g, " ").trim();
  const sex = l2[7];
  return {
    documentCode: l1.slice(0, 2).replace(/</g, ""),
    issuingState: l1.slice(2, 5),
    documentNumber: documentNumber.replace(/</g, ""),
    birthDate: l2.slice(0, 6),
    sex: sex === "M" || sex === "F" ? sex : null,
    expiryDate: l2.slice(8, 14),
    nationality: l2.slice(15, 18),
    surname: clean(surname),
    givenNames: clean(l3.slice(l3.indexOf("<<") + 2)),
  };
}

/** DG11: the personal details present (full name, personal number, date and place of birth). */
export function parseDg11(dg11: Uint8Array): PersonalDetails {
  const details: PersonalDetails = {};
  for (const element of unwrap(dg11, 11)) {
    if (element.idBlock.tagClass !== 2) continue;
    const text = valueOf(element).toString("utf8");
    switch (element.idBlock.tagNumber) {
      case 0x0e:
        details.fullName = text;
        break;
      case 0x10:
        details.personalNumber = text;
        break;
      case 0x2b:
        details.birthDate = text;
        break;
      case 0x11:
        details.placeOfBirth = text;
        break;
    }
  }
  return details;
}

/**
 * Passive authentication: the SOD's signature by its Document Signer, the Document Signer's chain
 * to one of `cscas` (its own expiry aside: a document outlives the signer's certificate, not the
 * CSCA's), and the hash of DG1 and DG11 as the SOD states them. Then DG1 and DG11 parsed.
 */
export async function passiveAuthentication(chip: ChipData, cscas: pkijs.Certificate[], now: number): Promise<PassiveAuthentication> {
  let cms: Uint8Array;
  try {
    const [content] = unwrap(chip.sod, 23);
    cms = new Uint8Array(content!.toBER());
  } catch (error) {
    return { ok: false, problem: "malformed", detail: (error as Error).message };
  }
  const signed = await verifySignedData(cms);
  if (!signed.ok) return { ok: false, problem: "signature", detail: signed.detail };
  if (signed.contentType !== LDS_SECURITY_OBJECT) return { ok: false, problem: "malformed", detail: "the SOD does not sign an LDS security object" };
  const ds = signed.signer;
  const at = ds.notAfter.value.getTime() < now ? ds.notAfter.value.getTime() - 1000 : now;
  const chain = await validateChain(ds, [], cscas, at);
  if (!chain.ok) return { ok: false, problem: "untrusted", detail: chain.detail };

  let hashes: Map<number, Buffer>;
  let algorithm;
  try {
    const lds = asn1js.fromBER(owned(signed.content)).result as asn1js.Sequence;
    const [, hashAlgorithm, groups] = lds.valueBlock.value as [asn1js.Integer, asn1js.Sequence, asn1js.Sequence];
    algorithm = hashByOid((hashAlgorithm.valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString());
    hashes = new Map(
      groups.valueBlock.value.map((g) => {
        const [number, value] = (g as asn1js.Sequence).valueBlock.value as [asn1js.Integer, asn1js.OctetString];
        return [number.valueBlock.valueDec, bytes(value.valueBlock.valueHexView)] as const;
      }),
    );
  } catch {
    return { ok: false, problem: "malformed", detail: "the SOD's LDS security object cannot be read" };
  }
  if (!algorithm) return { ok: false, problem: "malformed", detail: "the SOD's hash algorithm is not known" };
  const groups: [number, Uint8Array | undefined][] = [[1, chip.dg1], [11, chip.dg11]];
  for (const [number, data] of groups) {
    if (!data) continue;
    const expected = hashes.get(number);
    if (!expected || !digest(algorithm, data).equals(expected)) return { ok: false, problem: "hash_mismatch", detail: `DG${number} is not the one the document signer signed` };
  }
  try {
    return { ok: true, documentSigner: ds, mrz: parseDg1(chip.dg1), details: chip.dg11 ? parseDg11(chip.dg11) : null };
  } catch (error) {
    return { ok: false, problem: "malformed", detail: (error as Error).message };
  }
}

