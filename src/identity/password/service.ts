import { recordAuditBy } from "../../audit/service.ts";
import { ValidationError } from "../../shared/errors.ts";
import { translator } from "../../shared/i18n/translate.ts";
import type { PasswordRow } from "../../store/repos/accounts.ts";
import type { PasswordPolicy } from "../../tenants/policy.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { type Account, credentialOwner, NO_ACCOUNT_ID, personalDataOf } from "../accounts.ts";
import type { Actor, IdentityDeps } from "../deps.ts";
import { decoyHashOf } from "./decoy.ts";
import { hashSecret, needsRehash, verifySecret } from "./hashing.ts";
import { checkPasswordRules, type PersonalData, type RuleFailure } from "./rules.ts";

const DAY = 86_400_000;
const english = translator("en");

/** When a password set at `setAt` expires under the policy; null when passwords do not expire. */
export function passwordExpiresAt(policy: PasswordPolicy, setAt: number): number | null {
  return policy.maxAgeDays === null ? null : setAt + policy.maxAgeDays * DAY;
}

/** `months` calendar months before `now`. */
function monthsBefore(now: number, months: number): number {
  const d = new Date(now);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d.getTime();
}

/**
 * Every rule a new password breaks, including reuse: it must not be one of the account's last
 * `history.count` passwords (the current one included) nor one in use at any time during the last
 * `history.months` months. `personal` adds data not yet on the account (an enrolment in progress).
 */
export async function checkNewPassword(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account | null,
  password: string,
  personal: PersonalData = {},
): Promise<RuleFailure[]> {
  const policy = tenant.policy.password;
  const failures = checkPasswordRules(policy, password, { ...(account ? personalDataOf(account) : {}), ...personal });
  if (account && (policy.history.count > 0 || policy.history.months > 0) && (await isReused(deps, policy, account, password))) {
    failures.push({ rule: "password.reused", params: { count: policy.history.count, months: policy.history.months } });
  }
  return failures;
}

async function isReused(deps: IdentityDeps, policy: PasswordPolicy, account: Account, password: string): Promise<boolean> {
  const owner = credentialOwner(account);
  const current = await deps.repos.accounts.password(owner);
  const history = await deps.repos.accounts.passwordHistory(owner);
  const since = monthsBefore(deps.clock.now(), policy.history.months);
  const candidates = [
    ...(current ? [current.hash] : []),
    ...history.filter((h, i) => i < policy.history.count - 1 || (policy.history.months > 0 && h.retired_at >= since)).map((h) => h.hash),
  ];
  for (const hash of candidates) {
    if (await verifySecret(hash, password)) return true;
  }
  return false;
}

/**
 * Sets the account's password after checking every rule; the old one joins the history. Throws
 * ValidationError listing each rule broken (field `password`), and then changes nothing.
 */
export async function setPassword(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  password: string,
  by: Actor,
  options: { mustChange?: boolean; personal?: PersonalData } = {},
): Promise<void> {
  const policy = tenant.policy.password;
  const failures = await checkNewPassword(deps, tenant, account, password, options.personal);
  if (failures.length > 0) {
    throw new ValidationError(
      "password.invalid",
      failures.map((f) => ({ field: "password", code: f.rule, message: english(f.rule, f.params), params: f.params })),
    );
  }
  const hash = await hashSecret(password, policy.hashing);
  // The old password moves to the history and the new one takes its place together, one change
  // at a time per account (two at once would both retire the same password).
  // A linked identity and its shop account share one password: whichever changes it, both do.
  const owner = credentialOwner(account);
  await deps.repos.atomically(async (repos) => {
    await repos.lock(`password:${owner}`);
    const now = deps.clock.now();
    const current = await repos.accounts.password(owner);
    if (current) await repos.accounts.addPasswordHistory(owner, { set_at: current.set_at, retired_at: now, hash: current.hash });
    await repos.accounts.setPassword({ account_id: owner, hash, set_at: now, must_change: options.mustChange ? 1 : 0 });
    await pruneHistory({ ...deps, repos }, policy, owner);
    await recordAuditBy(repos, deps.clock, by, {
      tenantId: tenant.id,
      type: current ? "password.changed" : "password.set",
      subject: account.id,
    });
  });
}

/** Keeps only the history the policy can still ask about. */
async function pruneHistory(deps: IdentityDeps, policy: PasswordPolicy, accountId: string): Promise<void> {
  const history = await deps.repos.accounts.passwordHistory(accountId);
  const since = monthsBefore(deps.clock.now(), policy.history.months);
  const keep = history
    .filter((h, i) => i < policy.history.count - 1 || (policy.history.months > 0 && h.retired_at >= since))
    .map((h) => h.set_at);
  if (keep.length < history.length) await deps.repos.accounts.prunePasswordHistory(accountId, keep);
}

export type PasswordVerdict =
  | { ok: false }
  | { ok: true; expired: boolean; mustChange: boolean; expiresAt: number | null; hash: string };

/**
 * Checks a password. A hash made with other parameters than the tenant's current ones is
 * replaced on success. Without an account, or for an account without a password, the same query
 * runs and the tenant's decoy hash is verified instead, so that neither the work nor the time
 * tells whether an identifier exists; a real account's password is verified once, never twice.
 * `hash`: the one now stored, for a caller that checked outside a transaction to see under it
 * that the password is still the same.
 */
export async function verifyPassword(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account | undefined,
  password: string,
): Promise<PasswordVerdict> {
  const stored = await deps.repos.accounts.password(account ? credentialOwner(account) : NO_ACCOUNT_ID);
  return verifyAgainst(deps, tenant, account, stored, password);
}

/** verifyPassword, for a caller that has read the account's stored password along with it. */
export async function verifyAgainst(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account | undefined,
  stored: PasswordRow | undefined,
  password: string,
): Promise<PasswordVerdict> {
  const policy = tenant.policy.password;
  const real = account !== undefined && stored !== undefined;
  const matches = await verifySecret(real ? stored.hash : await decoyHashOf(tenant), password);
  if (!real || !matches) return { ok: false };
  let hash = stored.hash;
  if (needsRehash(stored.hash, policy.hashing)) {
    hash = await hashSecret(password, policy.hashing);
    await deps.repos.accounts.rehashPassword(credentialOwner(account), hash);
  }
  const expiresAt = passwordExpiresAt(policy, stored.set_at);
  return { ok: true, expired: expiresAt !== null && expiresAt <= deps.clock.now(), mustChange: stored.must_change === 1, expiresAt, hash };
}
