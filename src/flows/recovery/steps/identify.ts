import { z } from "zod";
import { type Account, findAccountByIdentifier } from "../../../identity/accounts.ts";
import type { IdentityDeps } from "../../../identity/deps.ts";
import type { Tenant } from "../../../tenants/tenant.ts";
import { issueOtp } from "../../../identity/otp.ts";
import { securityQuestionOf } from "../../../identity/security-question.ts";
import { attemptIdentifier } from "../../login/steps/identify.ts";
import type { StepDefinition } from "../../flow.ts";
import { type RecoveryData, recoveryPurposes } from "../data.ts";

/** Accounts that may recover a password: not revoked, and past e-mail confirmation. */
const RECOVERABLE = new Set(["active", "awaiting_proofing", "suspended", "enrolling"]);

/** The account a recovery for `identifier` is for, if any may recover (the same query either way). */
export async function recoverableAccount(deps: IdentityDeps, tenant: Tenant, identifier: string): Promise<Account | undefined> {
  const found = await findAccountByIdentifier(deps, tenant, identifier);
  return found && RECOVERABLE.has(found.state) ? found : undefined;
}

/**
 * Which account: neither the answer nor the work behind it tells whether it exists. With the
 * security question, an unknown identifier is shown a question all the same, picked from the
 * identifier (the same one each time), after the same query as a real one, and no answer will
 * ever be right; with an e-mail link, the page says a link was sent "if the account exists", and
 * for an unknown identifier (or an account with no confirmed address) a decoy code is issued the
 * same way, under the same limits, and never sent (identity/otp.ts).
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
    const account = await recoverableAccount(deps, tenant, input.identifier);

    if (tenant.policy.recovery.method === "question_and_sms") {
      const questions = tenant.policy.securityQuestions;
      const real = await securityQuestionOf(deps, account);
      // Keyed, so the decoy cannot be told from a real choice by computing it.
      const pick = Buffer.from(deps.secrets.mac(`recovery-decoy:${tenant.id}:${identifier}`), "base64url").readUInt32BE(0);
      const decoy = questions[pick % Math.max(questions.length, 1)]?.id;
      return { type: "advance", to: "question", data: { identifier, questionId: real ?? decoy } };
    }

    const mailbox = account?.email && account.emailVerifiedAt !== null ? account.email : undefined;
    // The outcome (sent, or refused by a sending limit) is not shown: it would differ too.
    await issueOtp(deps, tenant, {
      purpose: recoveryPurposes.link(flow.id),
      channel: "email",
      destination: mailbox ?? `nobody:${identifier}`,
      locale: account?.locale ?? ctx.locale,
      ttlSeconds: tenant.policy.recovery.linkMinutes * 60,
      message: { template: "recovery_link", params: (code) => ({ recovery_url: `${ctx.tenantUrl}/recover/${flow.id}/link?code=${code}` }) },
      ...(mailbox ? {} : { decoy: true }),
    });
    // The flow outlives the link by a quarter of an hour, for the steps that follow it.
    const expiresAt = Math.max(flow.expiresAt, deps.clock.now() + (tenant.policy.recovery.linkMinutes + 15) * 60_000);
    return { type: "advance", to: "email_link", expiresAt, data: { identifier }, notice: { code: "recovery.link_sent" } };
  },
};
