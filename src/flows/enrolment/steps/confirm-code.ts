import { z } from "zod";
import { type Account, findAccount } from "../../../identity/accounts.ts";
import { issueOtp, type IssueOutcome, verifyOtp } from "../../../identity/otp.ts";
import type { FieldIssue } from "../../../shared/errors.ts";
import type { StepContext, StepDefinition, StepOutcome } from "../../flow.ts";
import { sendEmailConfirmation } from "../confirmation-mail.ts";
import { checkbox, type EnrolmentData, purposes } from "../data.ts";

const Input = z.object({ code: z.string().max(20).optional(), resend: checkbox.optional() });
type Input = z.infer<typeof Input>;

interface CodeStep {
  name: "email_confirmation" | "mobile_confirmation";
  next: string;
  purpose(flowId: string): string;
  resend(ctx: StepContext<EnrolmentData>, account: Account): Promise<IssueOutcome>;
  confirmed(ctx: StepContext<EnrolmentData>, account: Account): Promise<void>;
  reachableFrom?: string[];
}

/**
 * A step that takes a one-time code sent to the applicant ("Codice di verifica"), or a request for
 * a new one ("Non hai ricevuto l'SMS?"), under the code throttles.
 */
function codeStep(spec: CodeStep): StepDefinition<EnrolmentData, Input> {
  return {
    name: spec.name,
    input: Input,
    ...(spec.reachableFrom ? { reachableFrom: spec.reachableFrom } : {}),
    fields({ t }) {
      return [
        { name: "code", type: "code", required: true, label: t("enrol.field.code"), autocomplete: "one-time-code" },
        { name: "resend", type: "checkbox", required: false, label: t(`enrol.resend.${spec.name}`) },
      ];
    },
    async handle(ctx, input): Promise<StepOutcome<EnrolmentData>> {
      const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
      if (input.resend) {
        const sent = await spec.resend(ctx, account);
        return sent.ok
          ? { type: "stay", notice: { code: spec.name === "email_confirmation" ? "enrol.email_sent" : "enrol.sms_sent", params: { email: account.email ?? "", mobile: account.phone ?? "" } } }
          : { type: "reject", errors: [{ field: "code", code: sent.reason, message: sent.reason, params: sent.params }] };
      }
      if (!input.code) return { type: "reject", errors: [{ field: "code", code: "enrol.required", message: "enter the code" }] };
      const verdict = await verifyOtp(ctx.deps, ctx.tenant, spec.purpose(ctx.flow.id), input.code);
      if (!verdict.ok) {
        const error: FieldIssue = { field: "code", code: verdict.reason, message: verdict.reason, params: verdict.params };
        return { type: "reject", errors: [error] };
      }
      await spec.confirmed(ctx, account);
      return { type: "advance", to: spec.next };
    },
  };
}

/** Step 3: the code (or link) from the confirmation e-mail proves the mailbox. */
export const confirmEmailAddress = codeStep({
  name: "email_confirmation",
  next: "security",
  purpose: purposes.emailConfirmation,
  resend: (ctx, account) => sendEmailConfirmation(ctx, account),
  async confirmed({ deps, tenant }, account) {
    await deps.repos.accounts.update(tenant.id, account.id, { email_verified_at: deps.clock.now(), state: "enrolling", updated_at: deps.clock.now() });
  },
});

/** Step 5: the SMS code proves the mobile number. */
export const confirmMobile = codeStep({
  name: "mobile_confirmation",
  next: "personal_data",
  purpose: purposes.mobileConfirmation,
  resend: (ctx, account) =>
    issueOtp(ctx.deps, ctx.tenant, { purpose: purposes.mobileConfirmation(ctx.flow.id), channel: "sms", destination: account.phone!, locale: ctx.locale }),
  async confirmed({ deps, tenant }, account) {
    await deps.repos.accounts.update(tenant.id, account.id, { phone_verified_at: deps.clock.now(), updated_at: deps.clock.now() });
  },
});
