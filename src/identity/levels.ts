/**
 * Levels of assurance. SPID defines three (DPCM 24/10/2014, art. 6): L1 one factor (password),
 * L2 two factors (password and a one-time code or app), L3 two factors one of which a certified
 * device. They map onto eIDAS low, substantial and high (Regulation 2015/1502), and travel as ACR
 * URIs in SAML and OpenID Connect.
 */
export const LEVELS = [1, 2, 3] as const;
export type Level = (typeof LEVELS)[number];

export const SPID_ACR: Record<Level, string> = {
  1: "https://www.spid.gov.it/SpidL1",
  2: "https://www.spid.gov.it/SpidL2",
  3: "https://www.spid.gov.it/SpidL3",
};

export const EIDAS_LOA: Record<Level, string> = {
  1: "http://eidas.europa.eu/LoA/low",
  2: "http://eidas.europa.eu/LoA/substantial",
  3: "http://eidas.europa.eu/LoA/high",
};

export function levelFromAcr(acr: string): Level | undefined {
  for (const level of LEVELS) if (SPID_ACR[level] === acr || EIDAS_LOA[level] === acr) return level;
  return undefined;
}

export function isLevel(value: unknown): value is Level {
  return value === 1 || value === 2 || value === 3;
}

/**
 * Authentication method references (RFC 8176) for each way of proving identity: what a session
 * records and ID tokens carry in `amr`.
 */
export type Method =
  | "password"
  | "sms"
  | "email"
  | "totp"
  | "recovery_code"
  | "passkey"
  | "passkey_synced"
  /** A professional card's certificate, its key unlocked by the card's PIN (seed 002). */
  | "card"
  /** Through an upstream SPID or CIE identity provider (a broker tenant), at level 1 or at level 2 or above. */
  | "spid"
  | "cie"
  | "spid_l2"
  | "cie_l2";

const AMR: Record<Method, string[]> = {
  password: ["pwd"],
  sms: ["sms", "otp"],
  email: ["otp"],
  totp: ["otp"],
  recovery_code: ["otp"],
  passkey: ["hwk", "user"],
  passkey_synced: ["swk", "user"],
  card: ["sc", "pin"],
  spid: ["spid"],
  cie: ["cie"],
  // Two factors, vouched for by the upstream (SPID/CIE level 2 is multi-factor by definition).
  spid_l2: ["spid", "mfa"],
  cie_l2: ["cie", "mfa"],
};

/** Upstream identity providers whose own `mfa` (their level 2) stands. */
const FEDERATED_AMR = new Set(["spid", "cie"]);

/** `amr` after `methods`, with `mfa` once two independent factors were used. */
export function amrFor(methods: readonly Method[]): string[] {
  return withMfa(methods.flatMap((m) => AMR[m]));
}

const SECOND_FACTOR_AMR = new Set(["otp", "sms", "hwk", "swk", "sc"]);

/**
 * Sorted, without duplicates, and with `mfa` when a password (something known) and a possession
 * factor were both used, or a passkey with user verification or a smart card unlocked by its PIN
 * (a key unlocked by PIN or biometrics is two factors by itself), or an upstream SPID/CIE
 * provider signed the user in at level 2.
 */
export function withMfa(amr: readonly string[]): string[] {
  const values = new Set(amr.filter((v) => v !== "mfa"));
  const possession = [...values].some((v) => SECOND_FACTOR_AMR.has(v));
  const vouched = amr.includes("mfa") && [...values].some((v) => FEDERATED_AMR.has(v));
  if (vouched || (possession && (values.has("pwd") || values.has("user") || values.has("pin")))) values.add("mfa");
  return [...values].sort();
}

/**
 * The lowest level any session of the tenant may have: 2 where two factors are mandatory for
 * every session (seed 001), so that no relying party or service provider ever gets less.
 */
export function minimumSessionLevel(tenant: { policy: { twoFactor: { mandatory: boolean } } }): Level {
  return tenant.policy.twoFactor.mandatory ? 2 : 1;
}
