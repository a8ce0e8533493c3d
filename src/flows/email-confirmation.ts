import type { Account } from "../identity/accounts.ts";
import { issueOtp, type IssueOutcome } from "../identity/otp.ts";
import type { Template } from "../messaging/templates.ts";
import type { StepContext } from "./flow.ts";

/** The one-time code that confirms a flow's e-mail address is bound to the flow. */
export const emailConfirmationPurpose = (flowId: string) => `flow:${flowId}:email_confirmation`;

/**
 * Sends the e-mail that confirms the address: a code, and the same code in a link to
 * `<tenant>/<pages>/<flow>/confirm-email`, which works from any device (the link names the flow;
 * the code proves the mailbox).
 */
export function sendEmailConfirmation<D extends object>(
  ctx: StepContext<D>,
  account: Account,
  options: { pages: string; minutes: number; template: Template },
): Promise<IssueOutcome> {
  return issueOtp(ctx.deps, ctx.tenant, {
    purpose: emailConfirmationPurpose(ctx.flow.id),
    channel: "email",
    destination: account.email!,
    locale: ctx.locale,
    ttlSeconds: options.minutes * 60,
    message: {
      template: options.template,
      params: (code) => ({ confirm_url: `${ctx.tenantUrl}/${options.pages}/${ctx.flow.id}/confirm-email?code=${code}` }),
    },
  });
}
