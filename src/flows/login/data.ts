import type { Level } from "../../identity/levels.ts";

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
}

export const LOGIN = "login";

export const secondFactorPurpose = (flowId: string, method: "sms" | "email") => `flow:${flowId}:second_factor:${method}`;
