import { type Account, type AccountKind, credentialOwner, findAccount, findAccountByIdentifier, NO_ACCOUNT_ID } from "./accounts.ts";
import type { IdentityDeps } from "./deps.ts";
import { type PasswordVerdict, verifyPassword } from "./password/service.ts";
import type { Tenant } from "../tenants/tenant.ts";

/**
 * An identifier and a password as typed, checked in two halves: the argon2id work outside any
 * transaction (it takes tens of milliseconds, and must not hold the database), then, under the
 * caller's transaction, the account read again and its password seen to be the one checked.
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
  const account = await findAccountByIdentifier(deps, tenant, typed.identifier, kind);
  return { accountId: account?.id, verdict: await verifyPassword(deps, tenant, account, typed.password) };
}

/** The account whose password was right and still is; undefined for every other outcome. */
export async function confirmPassword(
  deps: IdentityDeps,
  tenant: Tenant,
  check: PasswordCheck,
): Promise<{ account: Account; verdict: Extract<PasswordVerdict, { ok: true }> } | undefined> {
  const account = await findAccount(deps, tenant, check.accountId ?? NO_ACCOUNT_ID);
  const current = await deps.repos.accounts.password(account ? credentialOwner(account) : NO_ACCOUNT_ID);
  const { verdict } = check;
  if (!account || !verdict.ok || current?.hash !== verdict.hash) return undefined;
  return { account, verdict };
}
