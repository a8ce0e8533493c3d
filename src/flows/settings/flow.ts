import type { FlowDefinition } from "../flow.ts";
import { SETTINGS, type SettingsData } from "./data.ts";
import { confirmStateChange, requestStateChange } from "./steps/account-state.ts";
import { newEmail, newEmailCode, newMobile, newMobileCode } from "./steps/contact.ts";
import { confirmTotp, startTotp } from "./steps/totp.ts";

/**
 * Self-service changes that need a confirmation, one flow per change, started at the action's
 * first step (data.ts):
 *
 *   change_email:  email → email_code      change_mobile: mobile → mobile_code
 *   add_totp:      totp → totp_confirm     suspend / revoke: state → state_code
 *
 * A settings flow belongs to the account of the session that started it, and every step needs
 * that session, recent enough (the web layer checks both).
 */
export const settingsFlow: FlowDefinition<SettingsData> = {
  kind: SETTINGS,
  firstStep: "email",
  initialTtlMs: 30 * 60_000,
  steps: {
    email: newEmail,
    email_code: newEmailCode,
    mobile: newMobile,
    mobile_code: newMobileCode,
    totp: startTotp,
    totp_confirm: confirmTotp,
    state: requestStateChange,
    state_code: confirmStateChange,
  },
};
