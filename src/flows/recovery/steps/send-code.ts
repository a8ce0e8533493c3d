import type { Account } from "../../../identity/accounts.ts";
import { issueOtp } from "../../../identity/otp.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { maskContact } from "../../../identity/identifiers.ts";
import type { StepContext, StepOutcome } from "../../flow.ts";
import { type RecoveryData, recoveryPurposes } from "../data.ts";

/**
 * The second proof: a code by SMS to the verified mobile number, or, for an account without one
 * where the tenant recovers by e-mail, a code to the verified e-mail address.
 */
export async function sendRecoveryCode(ctx: StepContext<RecoveryData>, account: Account): Promise<StepOutcome<RecoveryData>> {
  const t = translator(ctx.locale);
  const bySms = account.phone !== null && account.phoneVerifiedAt !== null;
  const byEmail = !bySms && ctx.tenant.policy.recovery.method === "email_link_and_code" && account.email !== null && account.emailVerifiedAt !== null;
  if (!bySms && !byEmail) {
    return { type: "reject", errors: [{ field: "code", code: "recovery_unavailable", message: t("recovery.unavailable") }] };
  }
  const channel = bySms ? ("sms" as const) : ("email" as const);
  const destination = bySms ? account.phone! : account.email!;
  const sent = await issueOtp(ctx.deps, ctx.tenant, { purpose: recoveryPurposes.code(ctx.flow.id), channel, destination, locale: account.locale ?? ctx.locale });
  if (!sent.ok) return { type: "reject", errors: [{ field: "code", code: "code_throttled", message: t(sent.reason, sent.params), params: sent.params }] };
  return {
    type: "advance",
    to: "code",
    // The first proof succeeded: from now on the flow is this account's.
    accountId: account.id,
    data: { codeChannel: channel, sentTo: maskContact(destination) },
    notice: { code: channel === "sms" ? "login.sms_sent" : "login.email_sent", params: { to: maskContact(destination) } },
  };
}
