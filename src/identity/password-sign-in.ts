import { type Account, type AccountKind, accountFromRow, NO_ACCOUNT_ID, NO_IDENTIFIER } from "./accounts.ts";
import type { IdentityDeps } from "./deps.ts";
import { normalizeIdentifier } from "./identifiers.ts";
import { type PasswordVerdict, verifyAgainst } from "./password/service.ts";
import type { Tenant } from "../tenants/tenant.ts";

/**
 * An identifier and a password as typed, checked in two halves: the argon2id work outside any
 * transaction (it takes tens of milliseconds, and must not hold the database), then, under the
 * caller's transaction, the account read again and its password seen to be the one checked.
 * Each half reads the account and its password in one statement.
 *
 * Both halves run the same statements and the same one verification whether the identifier is
 * an account's or nobody's, well-formed or not: whoever types them learns from neither the answer
 * nor its time whether the identifier exists (docs/identity.md, "Unknown identifiers").
 */
export interface PasswordCheck {
  accountId: string | undefined;
  verdict: PasswordVerdict;
}

export async function checkPassword(
  deps: IdentityDeps,
  tenant: Tenant,
  typed: { identifier: string; password: string },
  kind: AccountKind = "identity",
): Promise<PasswordCheck> {
  const identifier = normalizeIdentifier(tenant.policy.identifier, typed.identifier);
  const found = await deps.repos.accounts.findWithPassword(tenant.id, { kind, identifier: identifier ?? NO_IDENTIFIER });
  const account = found && identifier ? accountFromRow(found.account) : undefined;
  return { accountId: account?.id, verdict: await verifyAgainst(deps, tenant, account, found?.password, typed.password) };
}

/**
 * The account whose password was right and still is, as read now (under the caller's
 * transaction); undefined for every other outcome.
 */
export async function confirmPassword(
  deps: IdentityDeps,
  tenant: Tenant,
  check: PasswordCheck,
): Promise<{ account: Account; verdict: Extract<PasswordVerdict, { ok: true }> } | undefined> {
  const found = await deps.repos.accounts.findWithPassword(tenant.id, { id: check.accountId ?? NO_ACCOUNT_ID });
  const { verdict } = check;
  if (!found || !verdict.ok || found.password?.hash !== verdict.hash) return undefined;
  return { account: accountFromRow(found.account), verdict };
}
