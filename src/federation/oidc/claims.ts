import type { Account } from "../../identity/accounts.ts";

/** The namespace of the Italian eID claims (SPID/CIE OpenID Connect, "User attributes"). */
export const EID = "https://attributes.eid.gov.it/";

/**
 * Claims by scope: the OpenID Connect standard scopes, with `profile` carrying what SPID/CIE call
 * the eIDAS minimum dataset (names, birth date, fiscal number), the place of birth and the
 * identifier the holder signs in with (`preferred_username`: the codice persona at a university). The other
 * Italian claims are asked for one by one with the claims parameter.
 */
export const CLAIMS_BY_SCOPE = {
  openid: ["sub"],
  profile: ["given_name", "family_name", "birthdate", "gender", `${EID}fiscal_number`, "place_of_birth", "preferred_username"],
  email: ["email", "email_verified"],
  phone: ["phone_number", "phone_number_verified"],
  address: ["address"],
} as const;

/** Claims only the claims parameter asks for. */
export const CLAIMS_BY_NAME_ONLY = [`${EID}spid_code`, `${EID}e_delivery_service`, "document_details"] as const;

export const SCOPES = [...Object.keys(CLAIMS_BY_SCOPE), "offline_access"];

/** Every claim a tenant can release (`sub` aside): what a client's allowed claims choose from. */
export const RELEASABLE_CLAIMS: readonly string[] = [
  ...new Set([...Object.values(CLAIMS_BY_SCOPE).flat().filter((c) => c !== "sub"), ...CLAIMS_BY_NAME_ONLY]),
];

/** SPID/CIE document types (document_details.type) for the types an identity request records. */
export const DOCUMENT_TYPES: Record<string, string> = {
  carta_identita: "cartaIdentita",
  passaporto: "passaporto",
  patente_guida: "patenteGuida",
  patente_nautica: "patenteNautica",
  porto_armi: "portoArmi",
  tessera_riconoscimento: "tesseraRiconoscimento",
};

/** Words dropped from an issuer's name ("Comune di Roma" → "ComuneRoma"): articles, prepositions, conjunctions. */
const MINOR_WORDS = new Set(
  "di del dello della dei degli delle da dal dallo dalla dai dagli dalle a al allo alla ai agli alle in nel nello nella nei negli nelle su sul sullo sulla sui sugli sulle per tra fra con e ed il lo la i gli le l un uno una".split(" "),
);

/** An issuing body as SPID/CIE want it: its significant words run together, each capitalised. */
export function issuerName(name: string): string {
  return name
    .split(/[\s'’]+/)
    .filter((w) => w && !MINOR_WORDS.has(w.toLowerCase()))
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

/**
 * Every claim the account has a value for, by claim name. oidc-provider then keeps those the
 * request asked for, the grant allows and the client may receive.
 */
export function claimsOf(account: Account): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  const set = (name: string, value: unknown) => {
    if (value !== null && value !== undefined) claims[name] = value;
  };
  // What the holder signs in with here: the e-mail address (SPID user ID), DNI or codice persona.
  set("preferred_username", account.identifier);
  set("given_name", account.givenName);
  set("family_name", account.familyName);
  set("birthdate", account.birthDate);
  set("gender", account.sex === "F" ? "female" : account.sex === "M" ? "male" : null);
  set(`${EID}fiscal_number`, account.fiscalCode ? `TINIT-${account.fiscalCode}` : null);
  set(`${EID}spid_code`, account.spidCode);
  set(`${EID}e_delivery_service`, account.digitalAddress);
  if (account.birthPlace) claims.place_of_birth = { locality: account.birthPlace, ...(account.countyOfBirth ? { region: account.countyOfBirth } : {}) };
  if (account.email) {
    claims.email = account.email;
    claims.email_verified = account.emailVerifiedAt !== null;
  }
  if (account.phone) {
    claims.phone_number = account.phone;
    claims.phone_number_verified = account.phoneVerifiedAt !== null;
  }
  if (account.address) {
    claims.address = {
      street_address: account.address,
      ...(account.postalCode ? { postal_code: account.postalCode } : {}),
      ...(account.city ? { locality: account.city } : {}),
      ...(account.province ? { region: account.province } : {}),
      country_code: "IT",
    };
  }
  if (account.documentType && account.documentNumber) {
    claims.document_details = {
      type: DOCUMENT_TYPES[account.documentType] ?? account.documentType,
      document_number: account.documentNumber,
      ...(account.documentIssuer ? { issuer: { name: issuerName(account.documentIssuer) } } : {}),
      ...(account.documentIssueDate ? { date_of_issuance: account.documentIssueDate } : {}),
      ...(account.documentExpiryDate ? { date_of_expiry: account.documentExpiryDate } : {}),
    };
  }
  return claims;
}
