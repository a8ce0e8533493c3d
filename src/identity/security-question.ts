import { recordAuditBy } from "../audit/service.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { type Account, NO_ACCOUNT_ID } from "./accounts.ts";
import type { Actor, IdentityDeps } from "./deps.ts";
import { decoyHashOf } from "./password/decoy.ts";
import { hashSecret, verifySecret } from "./password/hashing.ts";

/**
 * The security question chosen at enrolment, used to recover a forgotten password (seed 000).
 * Answers are compared after normalising case, spaces and accents ("  Città  di Roma" matches
 * "citta di roma") and stored argon2id-hashed like passwords.
 */
export const MIN_ANSWER_LENGTH = 3;

export function normalizeAnswer(answer: string): string {
  return answer.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/\s+/g, " ").trim();
}

export type SetAnswerOutcome = { ok: true } | { ok: false; field: "question" | "answer"; reason: string; params: Record<string, number> };

export async function setSecurityAnswer(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  questionId: string,
  answer: string,
  by: Actor,
): Promise<SetAnswerOutcome> {
  if (!tenant.policy.securityQuestions.some((q) => q.id === questionId)) {
    return { ok: false, field: "question", reason: "security_question.unknown", params: {} };
  }
  const normalized = normalizeAnswer(answer);
  if ([...normalized].length < MIN_ANSWER_LENGTH) {
    return { ok: false, field: "answer", reason: "security_question.answer_too_short", params: { min: MIN_ANSWER_LENGTH } };
  }
  await deps.repos.accounts.setSecurityAnswer({
    account_id: account.id,
    question: questionId,
    answer_hash: await hashSecret(normalized, tenant.policy.password.hashing),
    set_at: deps.clock.now(),
  });
  await recordAuditBy(deps.repos, deps.clock, by, {
    tenantId: tenant.id,
    type: "security_question.set",
    subject: account.id,
    data: { question: questionId },
  });
  return { ok: true };
}

/** The account's question id, if it has one; for no account, after the same query. */
export async function securityQuestionOf(deps: IdentityDeps, account: Account | undefined): Promise<string | undefined> {
  const stored = await deps.repos.accounts.securityAnswer(account?.id ?? NO_ACCOUNT_ID);
  return account && stored?.question;
}

/**
 * Whether the answer is the account's. Without an account, or for one that never chose a
 * question, the same query runs and the tenant's decoy hash is verified: never right, and no
 * quicker.
 */
export async function verifySecurityAnswer(deps: IdentityDeps, tenant: Tenant, account: Account | undefined, answer: string): Promise<boolean> {
  const stored = await deps.repos.accounts.securityAnswer(account?.id ?? NO_ACCOUNT_ID);
  const real = account !== undefined && stored !== undefined;
  const matches = await verifySecret(real ? stored.answer_hash : await decoyHashOf(tenant), normalizeAnswer(answer));
  return real && matches;
}
