import type { SecondFactor } from "../tenants/policy.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Account } from "./accounts.ts";
import type { IdentityDeps } from "./deps.ts";
import type { Level } from "./levels.ts";
import { hasTotp } from "./totp.ts";

/**
 * The second factors an account can use now: those the tenant offers, in the tenant's order,
 * that the account has (a verified mobile number for SMS, a verified e-mail address for e-mail
 * codes, a confirmed app, a passkey, unused recovery codes).
 */
export async function availableSecondFactors(deps: IdentityDeps, tenant: Tenant, account: Account): Promise<SecondFactor[]> {
  const has: Record<SecondFactor, () => Promise<boolean>> = {
    sms: async () => account.phone !== null && account.phoneVerifiedAt !== null,
    email: async () => account.email !== null && account.emailVerifiedAt !== null,
    totp: () => hasTotp(deps, account),
    passkey: async () => (await deps.repos.factors.passkeys(account.id)).length > 0,
    recovery_code: async () => (await deps.repos.factors.unusedRecoveryCodes(account.id)) > 0,
    upstream: () => deps.repos.broker.hasUpstreamFactor(account.id),
  };
  const available: SecondFactor[] = [];
  for (const factor of tenant.policy.factors.secondFactors) if (await has[factor]()) available.push(factor);
  return available;
}

/**
 * The level a session needs to change how the account signs in (its second factors, and the
 * e-mail address and mobile number that receive codes): 2 once the account has a second factor,
 * or a stolen password alone would let a thief add a factor of their own; 1 before, to set up
 * the first one.
 */
export async function levelToManageFactors(deps: IdentityDeps, tenant: Tenant, account: Account): Promise<Level> {
  return (await availableSecondFactors(deps, tenant, account)).length > 0 ? 2 : 1;
}
