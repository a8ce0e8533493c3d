import { z } from "zod";
import { emailConfirmationPurpose } from "../email-confirmation.ts";
import type { CaptchaChallenge } from "../captcha.ts";
import type { IdentificationMethod } from "../../tenants/policy.ts";

/** What an enrolment flow remembers between steps. Never a password in clear, nor a code. */
export interface EnrolmentData {
  method?: IdentificationMethod;
  point?: string;
  /** New customer, or a shop customer ("Ho già un account") linking their account. */
  path?: "new" | "existing";
  email?: string;
  captcha?: CaptchaChallenge;
  /**
   * The password as chosen, sealed with the master key: the personal-data step checks it against
   * the data entered there (which are not known when it is chosen), then drops it.
   */
  sealedPassword?: string;
  /** Why a password_change step is asked for. */
  passwordChange?: "policy" | "personal_data";
  security?: { question: string; mobile: string };
  /** The personal data as last entered, to fill the form again. */
  personal?: Record<string, string>;
}

/** An HTML checkbox ("on") or a JSON boolean. */
export const checkbox = z.preprocess((v) => v === true || v === "true" || v === "on" || v === "1", z.boolean());

/** A text field: trimmed; empty means absent. */
export const text = (max: number) =>
  z.preprocess((v) => (typeof v === "string" ? v.trim() || undefined : v), z.string().max(max).optional());

export const purposes = {
  emailConfirmation: emailConfirmationPurpose,
  mobileConfirmation: (flowId: string) => `flow:${flowId}:mobile_confirmation`,
};

export const sealContext = (flowId: string) => `flow:${flowId}:password`;

export const ENROLMENT = "enrolment";
