import { z } from "zod";
import { findAccount } from "../../../identity/accounts.ts";
import { verifyOtp } from "../../../identity/otp.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import { codeIssue } from "../../code-issue.ts";
import { checkbox } from "../../enrolment/data.ts";
import type { StepDefinition } from "../../flow.ts";
import { type RecoveryData, recoveryPurposes } from "../data.ts";
import { recoverableAccount } from "./identify.ts";
import { sendRecoveryCode } from "./send-code.ts";

const Input = z.object({ code: z.string().max(20).optional(), resend: checkbox.optional() });

/** The link from the recovery e-mail (or its code typed in): proves the mailbox, then the second code goes out. */
export const confirmRecoveryLink: StepDefinition<RecoveryData, z.infer<typeof Input>> = {
  name: "email_link",
  input: Input,
  fields({ t }) {
    return [{ name: "code", type: "code", required: true, label: t("enrol.field.code"), autocomplete: "one-time-code" }];
  },
  async handle(ctx, input) {
    const t = translator(ctx.locale);
    const verdict = await verifyOtp(ctx.deps, ctx.tenant, recoveryPurposes.link(ctx.flow.id), input.code ?? "");
    if (!verdict.ok) {
      return { type: "reject", errors: [codeIssue(t, verdict)] };
    }
    // The link proves the mailbox of the account the identifier names. A decoy's code never
    // matches (identity/otp.ts); were one to, it would lead nowhere.
    const account = await recoverableAccount(ctx.deps, ctx.tenant, ctx.flow.data.identifier ?? "");
    if (!account) return { type: "reject", errors: [codeIssue(t, { reason: "otp.used" })] };
    return sendRecoveryCode(ctx, account);
  },
};

/** The second code (SMS, or e-mail), or a request to send it again. */
export const confirmRecoveryCode: StepDefinition<RecoveryData, z.infer<typeof Input>> = {
  name: "code",
  input: Input,
  fields({ t }) {
    return [
      { name: "code", type: "code", required: true, label: t("enrol.field.code"), autocomplete: "one-time-code" },
      { name: "resend", type: "checkbox", required: false, label: t("enrol.resend.mobile_confirmation") },
    ];
  },
  async handle(ctx, input) {
    const t = translator(ctx.locale);
    if (input.resend) {
      const account = (await findAccount(ctx.deps, ctx.tenant, ctx.flow.accountId!))!;
      const sent = await sendRecoveryCode(ctx, account);
      return sent.type === "advance" ? { type: "stay", ...(sent.notice ? { notice: sent.notice } : {}) } : sent;
    }
    const verdict = await verifyOtp(ctx.deps, ctx.tenant, recoveryPurposes.code(ctx.flow.id), input.code ?? "");
    if (!verdict.ok) {
      return { type: "reject", errors: [codeIssue(t, verdict)] };
    }
    return { type: "advance", to: "new_password" };
  },
};
