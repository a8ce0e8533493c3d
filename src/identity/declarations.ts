import { recordAuditBy } from "../audit/service.ts";
import { newId } from "../shared/ids.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Account } from "./accounts.ts";
import type { Actor, IdentityDeps } from "./deps.ts";

/**
 * "Dichiara e prosegui senza SPID/CIE" (seed 001): an Italian citizen who cannot use SPID or CIE
 * declares so, in their own words. The declaration is kept (text, time, address) and audited; it
 * allows an authenticator app as the second factor for the tenant's `twoFactor.declarationDays`,
 * after which SPID/CIE is required again. One declaration per account: once its time is over it
 * is not offered again.
 */
export const MIN_DECLARATION_LENGTH = 20;
export const MAX_DECLARATION_LENGTH = 2000;

export async function hasDeclared(deps: IdentityDeps, account: Account): Promise<boolean> {
  return (await deps.repos.broker.declarations(account.id)).length > 0;
}

/** Records the declaration; returns until when the app it allows counts. */
export async function recordDeclaration(deps: IdentityDeps, tenant: Tenant, account: Account, text: string, by: Actor): Promise<number> {
  const now = deps.clock.now();
  const expiresAt = now + tenant.policy.twoFactor.declarationDays * 86_400_000;
  const id = newId();
  await deps.repos.broker.insertDeclaration({ id, tenant_id: tenant.id, account_id: account.id, text, ip: by.ip ?? null, created_at: now, expires_at: expiresAt });
  await recordAuditBy(deps.repos, deps.clock, by, {
    tenantId: tenant.id,
    type: "2fa.declaration",
    subject: account.id,
    data: { declaration: id, text, expiresAt },
  });
  return expiresAt;
}
