import { z } from "zod";
import { type Account, findAccount } from "../identity/accounts.ts";
import { type IssueOutcome, verifyOtp } from "../identity/otp.ts";
import type { FieldIssue } from "../shared/errors.ts";
import type { MessageKey } from "../shared/i18n/translate.ts";
import { checkbox } from "./enrolment/data.ts";
import type { StepContext, StepDefinition, StepOutcome } from "./flow.ts";

const Input = z.object({ code: z.string().max(20).optional(), resend: checkbox.optional() });
type Input = z.infer<typeof Input>;

interface CodeStep<D extends object> {
  name: string;
  /** The notice once a new code went out ("enrol.email_sent", "enrol.sms_sent"). */
  resent: MessageKey;
  purpose(flowId: string): string;
  resend(ctx: StepContext<D>, account: Account): Promise<IssueOutcome>;
  /** The code was right: what it proves is recorded, and the flow goes on. */
  confirmed(ctx: StepContext<D>, account: Account): Promise<StepOutcome<D>>;
  reachableFrom?: string[];
}

/**
 * A step that takes a one-time code sent to the flow's account ("Codice di verifica"), or a
 * request for a new one ("Non hai ricevuto l'SMS?"), under the code throttles.
 */
export function codeStep<D extends object>(spec: CodeStep<D>): StepDefinition<D, Input> {
  return {
    name: spec.name,
    input: Input,
    ...(spec.reachableFrom ? { reachableFrom: spec.reachableFrom } : {}),
    fields({ t }) {
      return [
        { name: "code", type: "code", required: true, label: t("enrol.field.code"), autocomplete: "one-time-code" },
        { name: "resend", type: "checkbox", required: false, label: t(spec.name === "mobile_confirmation" ? "enrol.resend.mobile_confirmation" : "enrol.resend.email_confirmation") },
      ];
    },
    async handle(ctx, input): Promise<StepOutcome<D>> {
      const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
      if (input.resend) {
        const sent = await spec.resend(ctx, account);
        return sent.ok
          ? { type: "stay", notice: { code: spec.resent, params: { email: account.email ?? "", mobile: account.phone ?? "" } } }
          : { type: "reject", errors: [{ field: "code", code: sent.reason, message: sent.reason, params: sent.params }] };
      }
      if (!input.code) return { type: "reject", errors: [{ field: "code", code: "enrol.required", message: "enter the code" }] };
      const verdict = await verifyOtp(ctx.deps, ctx.tenant, spec.purpose(ctx.flow.id), input.code);
      if (!verdict.ok) {
        const error: FieldIssue = { field: "code", code: verdict.reason, message: verdict.reason, params: verdict.params };
        return { type: "reject", errors: [error] };
      }
      return spec.confirmed(ctx, account);
    },
  };
}
