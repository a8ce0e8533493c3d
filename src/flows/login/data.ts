import type { Level, Method } from "../../identity/levels.ts";

/** What a sign-in remembers between its steps. */
export interface LoginData {
  /** The level asked for (by the page, or later by a relying party). */
  level: Level;
  /** Where a browser goes once signed in (a path of the same tenant). */
  returnTo?: string;
  /** Why a new password is asked for before anything else. */
  passwordChange?: "expired" | "must_change";
  /** The passkey ceremony offered at the second-factor step. */
  passkey?: { ceremonyId: string; options: object };
  /** How the user got past the first factor: ["password"], or an upstream's method (["spid"]…). */
  firstFactor?: Method[];
  /** The upstream a sign-in "Entra con SPID/CIE" goes through (broker tenants). */
  upstream?: string;
  /** The professional card a sign-in with a card was made with (its certificate's serial), once checked. */
  card?: string;
  /** The MAC of the answer the mutual-TLS endpoint sent back with the card's browser (professionals/card.ts). */
  cardAnswer?: string;
  /** The authenticator app being set up at the 2FA activation, and until when it counts. */
  totp?: { factorId: string; expiresAt?: number };
}

export const LOGIN = "login";

export const secondFactorPurpose = (flowId: string, method: "sms" | "email") => `flow:${flowId}:second_factor:${method}`;
