import type { Account } from "../../identity/accounts.ts";
import { DOCUMENT_TYPES, issuerName } from "../oidc/claims.ts";

/**
 * SPID attributes (Regole tecniche, "Tabella attributi"; AgID Avviso n. 29 v3 for the domicile
 * set), with the XML Schema type each AttributeValue carries. A service provider names in its
 * metadata, per AttributeConsumingService, which of them it needs; only those names are valid.
 */
export const SPID_ATTRIBUTES = {
  spidCode: "string",
  name: "string",
  familyName: "string",
  placeOfBirth: "string",
  countyOfBirth: "string",
  dateOfBirth: "date",
  gender: "string",
  companyName: "string",
  registeredOffice: "string",
  fiscalNumber: "string",
  ivaCode: "string",
  idCard: "string",
  mobilePhone: "string",
  email: "string",
  address: "string",
  expirationDate: "date",
  digitalAddress: "string",
  domicileStreetAddress: "string",
  domicilePostalCode: "string",
  domicileMunicipality: "string",
  domicileProvince: "string",
  domicileNation: "string",
  companyFiscalNumber: "string",
} as const;

export type SpidAttribute = keyof typeof SPID_ATTRIBUTES;

export const isSpidAttribute = (name: string): name is SpidAttribute => Object.hasOwn(SPID_ATTRIBUTES, name);

/**
 * The account's value for each attribute it has one for. Companies' attributes (companyName,
 * ivaCode…) belong to legal persons' and professionals' identities, which this tenant's
 * identities are not: they are never released, as an IdP without the value omits it.
 */
export function attributeValues(account: Account): Partial<Record<SpidAttribute, string>> {
  const values: Partial<Record<SpidAttribute, string>> = {};
  const set = (name: SpidAttribute, value: string | null | undefined) => {
    if (value) values[name] = value;
  };
  set("spidCode", account.spidCode);
  set("name", account.givenName);
  set("familyName", account.familyName);
  set("placeOfBirth", account.birthPlace);
  set("countyOfBirth", account.countyOfBirth);
  set("dateOfBirth", account.birthDate);
  set("gender", account.sex);
  set("fiscalNumber", account.fiscalCode ? `TINIT-${account.fiscalCode}` : null);
  set("mobilePhone", account.phone);
  set("email", account.email);
  set("digitalAddress", account.digitalAddress);
  // The identity lasts as long as the document it was proven with.
  set("expirationDate", account.documentExpiryDate);
  if (account.documentType && account.documentNumber) {
    // "<type> <number> <issuer> <issued> <expires>", the SPID idCard layout.
    set(
      "idCard",
      [DOCUMENT_TYPES[account.documentType] ?? account.documentType, account.documentNumber, account.documentIssuer ? issuerName(account.documentIssuer) : "", account.documentIssueDate ?? "", account.documentExpiryDate ?? ""]
        .filter(Boolean)
        .join(" "),
    );
  }
  if (account.address) {
    set("address", [account.address, account.postalCode, account.city, account.province].filter(Boolean).join(" "));
    set("domicileStreetAddress", account.address);
    set("domicilePostalCode", account.postalCode);
    set("domicileMunicipality", account.city);
    set("domicileProvince", account.province);
    set("domicileNation", "IT");
  }
  return values;
}
