import { z } from "zod";
import { findAccountByIdentifier } from "../../../identity/accounts.ts";
import { issueOtp } from "../../../identity/otp.ts";
import { securityQuestionOf } from "../../../identity/security-question.ts";
import { attemptIdentifier } from "../../login/steps/identify.ts";
import type { StepDefinition } from "../../flow.ts";
import { type RecoveryData, recoveryPurposes } from "../data.ts";

/** Accounts that may recover a password: not revoked, and past e-mail confirmation. */
const RECOVERABLE = new Set(["active", "awaiting_proofing", "suspended", "enrolling"]);

/**
 * Which account: the answer never tells whether it exists. With the security question, an unknown
 * identifier is shown a question all the same, picked from the identifier (the same one each time),
 * and no answer will ever be right; with an e-mail link, the page says a link was sent "if the
 * account exists" and sends nothing for an unknown one.
 */
export const identifyForRecovery: StepDefinition<RecoveryData, { identifier: string }> = {
  name: "identify",
  input: z.object({ identifier: z.string().min(1).max(254) }),

  fields({ tenant, t }) {
    return [{ name: "identifier", type: "text", required: true, label: t(`login.identifier.${tenant.policy.identifier}`), autocomplete: "username" }];
  },

  async handle(ctx, input) {
    const { deps, tenant, flow } = ctx;
    const identifier = attemptIdentifier(tenant, input.identifier);
    const found = await findAccountByIdentifier(deps, tenant, input.identifier);
    const account = found && RECOVERABLE.has(found.state) ? found : undefined;

    if (tenant.policy.recovery.method === "question_and_sms") {
      const questions = tenant.policy.securityQuestions;
      const real = account ? await securityQuestionOf(deps, account) : undefined;
      // Keyed, so the decoy cannot be told from a real choice by computing it.
      const pick = Buffer.from(deps.secrets.mac(`recovery-decoy:${tenant.id}:${identifier}`), "base64url").readUInt32BE(0);
      const decoy = questions[pick % Math.max(questions.length, 1)]?.id;
      return {
        type: "advance",
        to: "question",
        ...(real && account ? { accountId: account.id } : {}),
        data: { identifier, questionId: real ?? decoy },
      };
    }

    if (account?.email && account.emailVerifiedAt !== null) {
      await issueOtp(deps, tenant, {
        purpose: recoveryPurposes.link(flow.id),
        channel: "email",
        destination: account.email,
        locale: account.locale ?? ctx.locale,
        ttlSeconds: tenant.policy.recovery.linkMinutes * 60,
        message: { template: "recovery_link", params: (code) => ({ recovery_url: `${ctx.tenantUrl}/recover/${flow.id}/link?code=${code}` }) },
      });
    }
    // The flow outlives the link by a quarter of an hour, for the steps that follow it.
    const expiresAt = Math.max(flow.expiresAt, deps.clock.now() + (tenant.policy.recovery.linkMinutes + 15) * 60_000);
    return { type: "advance", to: "email_link", ...(account ? { accountId: account.id } : {}), expiresAt, data: { identifier }, notice: { code: "recovery.link_sent" } };
  },
};
