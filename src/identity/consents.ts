import { recordAuditBy } from "../audit/service.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Account } from "./accounts.ts";
import type { Actor, IdentityDeps } from "./deps.ts";

/**
 * Consents: the mandatory privacy notice, optional marketing, the contract, a professional's
 * terms of use (seed 002). Each is recorded
 * with the version of the text and the time (GDPR art. 7(1): the controller must be able to
 * show that consent was given); a withdrawal is recorded, never a deletion.
 */
export type ConsentPurpose = "privacy" | "marketing" | "contract" | "terms";

export interface Consent {
  purpose: ConsentPurpose;
  version: string;
  granted: boolean;
  givenAt: number;
  withdrawnAt: number | null;
}

export async function recordConsent(
  deps: IdentityDeps,
  tenant: Tenant,
  account: Account,
  consent: { purpose: ConsentPurpose; version: string; granted: boolean },
  by: Actor,
): Promise<void> {
  await deps.repos.consents.insert({
    account_id: account.id,
    purpose: consent.purpose,
    version: consent.version,
    granted: consent.granted ? 1 : 0,
    given_at: deps.clock.now(),
    withdrawn_at: null,
  });
  await recordAuditBy(deps.repos, deps.clock, by, {
    tenantId: tenant.id,
    type: "consent.recorded",
    subject: account.id,
    data: consent,
  });
}

export async function listConsents(deps: IdentityDeps, account: Account): Promise<Consent[]> {
  return (await deps.repos.consents.of(account.id)).map((row) => ({
    purpose: row.purpose as ConsentPurpose,
    version: row.version,
    granted: row.granted === 1,
    givenAt: row.given_at,
    withdrawnAt: row.withdrawn_at,
  }));
}
