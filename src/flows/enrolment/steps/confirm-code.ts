import { issueOtp } from "../../../identity/otp.ts";
import { codeStep } from "../../code-step.ts";
import { sendEmailConfirmation } from "../confirmation-mail.ts";
import { type EnrolmentData, purposes } from "../data.ts";

/** Step 3: the code (or link) from the confirmation e-mail proves the mailbox. */
export const confirmEmailAddress = codeStep<EnrolmentData>({
  name: "email_confirmation",
  resent: "enrol.email_sent",
  purpose: purposes.emailConfirmation,
  resend: (ctx, account) => sendEmailConfirmation(ctx, account),
  async confirmed({ deps, tenant }, account) {
    await deps.repos.accounts.update(tenant.id, account.id, { email_verified_at: deps.clock.now(), state: "enrolling", updated_at: deps.clock.now() });
    return { type: "advance", to: "security" };
  },
});

/** Step 5: the SMS code proves the mobile number. */
export const confirmMobile = codeStep<EnrolmentData>({
  name: "mobile_confirmation",
  resent: "enrol.sms_sent",
  purpose: purposes.mobileConfirmation,
  resend: (ctx, account) =>
    issueOtp(ctx.deps, ctx.tenant, { purpose: purposes.mobileConfirmation(ctx.flow.id), channel: "sms", destination: account.phone!, locale: ctx.locale }),
  async confirmed({ deps, tenant }, account) {
    await deps.repos.accounts.update(tenant.id, account.id, { phone_verified_at: deps.clock.now(), updated_at: deps.clock.now() });
    return { type: "advance", to: "personal_data" };
  },
});
