import type { FlowDefinition } from "../flow.ts";
import { SETTINGS, type SettingsData } from "./data.ts";
import { confirmStateChange, requestStateChange } from "./steps/account-state.ts";
import type { AttemptStore } from "../../identity/brute-force.ts";
import { identifierChecks } from "../../identity/identifier-checks.ts";
import { newContact, newEmailCode, newMobileCode } from "./steps/contact.ts";
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
export function settingsFlow(outside: { attempts: AttemptStore; clockNow(): number }): FlowDefinition<SettingsData> {
  const checks = identifierChecks(outside);
  return {
    kind: SETTINGS,
    firstStep: "email",
    initialTtlMs: 30 * 60_000,
    steps: {
      email: newContact("email", checks),
      email_code: newEmailCode,
      mobile: newContact("mobile", checks),
      mobile_code: newMobileCode,
      totp: startTotp,
      totp_confirm: confirmTotp,
      state: requestStateChange,
      state_code: confirmStateChange,
    },
  };
}
