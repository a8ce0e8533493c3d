/**
 * Account identifiers per tenant kind, normalised so that one person cannot hold two accounts by
 * varying case or spacing. Pure functions; each returns the normal form or null when invalid.
 */
export type IdentifierKind = "email" | "dni" | "codice_persona";

export function normalizeIdentifier(kind: IdentifierKind, raw: string): string | null {
  switch (kind) {
    case "email":
      return normalizeEmail(raw);
    case "dni":
      return normalizeDni(raw);
    case "codice_persona":
      return normalizeCodicePersona(raw);
  }
}

/** E-mail address, lower-cased (as a user ID, case must not matter). */
export function normalizeEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  if (email.length > 254) return null;
  const at = email.lastIndexOf("@");
  if (at < 1 || at > 64) return null;
  return /^[^\s@"<>()[\]\\,;:]+@[a-z0-9\p{L}](?:[a-z0-9\p{L}-]*[a-z0-9\p{L}])?(?:\.[a-z0-9\p{L}](?:[a-z0-9\p{L}-]*[a-z0-9\p{L}])?)+$/u.test(
    email,
  )
    ? email
    : null;
}

const DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE";

/**
 * Spanish DNI (8 digits and a check letter) or NIE (X, Y or Z, 7 digits and a check letter), as
 * the Ministry of the Interior defines the check letter: the number modulo 23 indexes
 * TRWAGMYFPDXBNJZSQVHLCKE, with X, Y, Z counting as 0, 1, 2 in front of an NIE's digits.
 */
export function normalizeDni(raw: string): string | null {
  const value = raw.toUpperCase().replace(/[\s.-]/g, "");
  const match = /^([XYZ]\d{7}|\d{8})([A-Z])$/.exec(value);
  if (!match) return null;
  const digits = match[1]!.replace(/^[XYZ]/, (c) => String("XYZ".indexOf(c)));
  return DNI_LETTERS[Number(digits) % 23] === match[2] ? value : null;
}

const CIF_LETTERS = "JABCDEFGHI";

/**
 * A Spanish legal entity's tax number (CIF, now "NIF de persona jurídica", Orden EHA/451/2008):
 * the entity's type letter, seven digits and a control character. The control is computed from
 * the digits (even positions added, odd ones doubled and their digits added; ten minus the last
 * digit of the sum); it is a letter (JABCDEFGHI) for public bodies, non-resident and foreign
 * entities (N, P, Q, R, S, W), a digit for companies (A, B, E, H), either for the rest.
 */
export function normalizeCif(raw: string): string | null {
  const value = raw.toUpperCase().replace(/[\s.-]/g, "");
  const match = /^([ABCDEFGHJNPQRSUVW])(\d{7})([0-9A-J])$/.exec(value);
  if (!match) return null;
  const [, type, digits, control] = match as unknown as [string, string, string, string];
  let sum = 0;
  for (let i = 0; i < 7; i++) {
    const d = Number(digits[i]);
    sum += i % 2 === 1 ? d : Math.floor((2 * d) / 10) + ((2 * d) % 10);
  }
  const check = (10 - (sum % 10)) % 10;
  const asLetter = CIF_LETTERS[check]!;
  const asDigit = String(check);
  const allowed = "NPQRSW".includes(type) ? [asLetter] : "ABEH".includes(type) ? [asDigit] : [asLetter, asDigit];
  return allowed.includes(control) ? value : null;
}

/** Codice persona: the 8-digit number a university assigns. */
export function normalizeCodicePersona(raw: string): string | null {
  const value = raw.trim();
  return /^\d{8}$/.test(value) ? value : null;
}

/** Mobile number in E.164 (`+` and 8–15 digits), spaces and dashes removed. */
export function normalizePhone(raw: string): string | null {
  const value = raw.replace(/[\s().-]/g, "");
  const e164 = value.startsWith("00") ? `+${value.slice(2)}` : value;
  return /^\+[1-9]\d{7,14}$/.test(e164) ? e164 : null;
}

/** An e-mail address or phone number as shown to whoever is signing in: enough to recognise it, not to learn it. */
export function maskContact(destination: string): string {
  if (destination.includes("@")) {
    const [local, domain] = destination.split("@") as [string, string];
    return `${local.slice(0, 2)}***@${domain}`;
  }
  return `${destination.slice(0, 3)}******${destination.slice(-3)}`;
}
