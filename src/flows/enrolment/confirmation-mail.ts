import type { Account } from "../../identity/accounts.ts";
import type { IssueOutcome } from "../../identity/otp.ts";
import { sendEmailConfirmation as send } from "../email-confirmation.ts";
import type { StepContext } from "../flow.ts";
import type { EnrolmentData } from "./data.ts";

/** The identity request's confirmation e-mail: its link leads to the request's pages. */
export function sendEmailConfirmation(ctx: StepContext<EnrolmentData>, account: Account): Promise<IssueOutcome> {
  return send(ctx, account, { pages: "enrol", minutes: ctx.tenant.policy.enrolment?.emailConfirmationMinutes ?? 60, template: "email_confirmation" });
}
