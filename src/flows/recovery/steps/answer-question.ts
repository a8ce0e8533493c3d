import { z } from "zod";
import { findAccount, NO_ACCOUNT_ID } from "../../../identity/accounts.ts";
import type { AttemptStore } from "../../../identity/brute-force.ts";
import { attemptFailed, attemptSucceeded, attemptWithdrawn, beginAttempt } from "../../../identity/brute-force.ts";
import { verifySecurityAnswer } from "../../../identity/security-question.ts";
import { translator } from "../../../shared/i18n/translate.ts";
import type { StepDefinition } from "../../flow.ts";
import type { RecoveryData } from "../data.ts";
import { recoverableAccount } from "./identify.ts";
import { sendRecoveryCode } from "./send-code.ts";

/**
 * The security question (seed 000: "utili … per recuperare la password in caso di smarrimento"),
 * under brute-force protection; a right answer sends a code by SMS to the verified mobile number.
 */
export function answerQuestion(attempts: AttemptStore, clockNow: () => number): StepDefinition<RecoveryData, { answer: string }, { accountId: string | undefined; right: boolean }> {
  const subject = (tenantId: string, identifier: string, ip: string | null | undefined) => ({
    tenantId,
    identifier: `recovery:${identifier}`,
    ip: ip ?? "unknown",
  });
  return {
    name: "question",
    input: z.object({ answer: z.string().min(1).max(200) }),

    fields({ tenant, flow, locale, t }) {
      const question = tenant.policy.securityQuestions.find((q) => q.id === flow.data.questionId);
      const text = question ? (question.text[locale] ?? question.text[tenant.defaultLocale] ?? question.id) : t("enrol.field.question");
      return [{ name: "answer", type: "text", required: true, label: text, autocomplete: "off" }];
    },

    async gate(ctx) {
      const gate = await beginAttempt(attempts, ctx.tenant.policy.lockout, subject(ctx.tenant.id, ctx.flow.data.identifier ?? "", ctx.by.ip), clockNow());
      if (gate.allowed) return null;
      return [{ field: "answer", code: "locked", message: translator(ctx.locale)(gate.reason, gate.params), params: gate.params }];
    },

    // The answer is checked before the transaction (argon2id must not hold the database), with
    // the same statements and work for an identifier that is nobody's.
    async prepare(ctx, input) {
      const account = await recoverableAccount(ctx.deps, ctx.tenant, ctx.flow.data.identifier ?? "");
      return { accountId: account?.id, right: await verifySecurityAnswer(ctx.deps, ctx.tenant, account, input.answer) };
    },

    async handle(ctx, _input, checked) {
      const t = translator(ctx.locale);
      const account = await findAccount(ctx.deps, ctx.tenant, checked.accountId ?? NO_ACCOUNT_ID);
      if (!account || !checked.right) return { type: "reject", errors: [{ field: "answer", code: "wrong_answer", message: t("recovery.wrong_answer") }] };
      return sendRecoveryCode(ctx, account);
    },

    async settle(ctx, _input, outcome) {
      const who = subject(ctx.tenant.id, ctx.flow.data.identifier ?? "", ctx.by.ip);
      if (outcome.type === "reject" && outcome.errors.some((e) => e.code === "wrong_answer")) {
        await attemptFailed(attempts, ctx.tenant.policy.lockout, who, clockNow());
      } else if (outcome.type !== "reject") await attemptSucceeded(attempts, who, clockNow());
    },

    withdraw: (ctx) => attemptWithdrawn(attempts, subject(ctx.tenant.id, ctx.flow.data.identifier ?? "", ctx.by.ip), clockNow()),
  };
}
