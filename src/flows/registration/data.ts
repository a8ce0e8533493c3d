import type { CaptchaChallenge } from "../captcha.ts";

/** What a registration remembers between steps: never the password, nor a code. */
export interface RegistrationData {
  /** "Hai la cittadinanza italiana?": Italian citizens give their codice fiscale. */
  citizenship?: "italian" | "other";
  captcha?: CaptchaChallenge;
  /** Once registered: the codice persona assigned, shown on the last page. */
  codicePersona?: string;
  /** The details as last entered (no secrets), to fill the form again. */
  details?: Record<string, string>;
}

export const REGISTRATION = "registration";

/** Where the registration's pages are, under the tenant (the confirmation link leads there). */
export const REGISTRATION_PAGES = "register";
