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
