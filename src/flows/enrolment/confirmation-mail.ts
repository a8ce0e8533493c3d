import type { Account } from "../../identity/accounts.ts";
import { issueOtp, type IssueOutcome } from "../../identity/otp.ts";
import type { StepContext } from "../flow.ts";
import { type EnrolmentData, purposes } from "./data.ts";

/**
 * Sends the e-mail that confirms the address: a code, and the same code in a link, which works
 * from any device (the link names the flow; the code proves the mailbox).
 */
export function sendEmailConfirmation(ctx: StepContext<EnrolmentData>, account: Account): Promise<IssueOutcome> {
  const minutes = ctx.tenant.policy.enrolment?.emailConfirmationMinutes ?? 60;
  return issueOtp(ctx.deps, ctx.tenant, {
    purpose: purposes.emailConfirmation(ctx.flow.id),
    channel: "email",
    destination: account.email!,
    locale: ctx.locale,
    ttlSeconds: minutes * 60,
    message: {
      template: "email_confirmation",
      params: (code) => ({ confirm_url: `${ctx.tenantUrl}/enrol/${ctx.flow.id}/confirm-email?code=${code}` }),
    },
  });
}
