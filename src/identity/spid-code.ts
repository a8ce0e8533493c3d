import type { Repos } from "../store/repos/index.ts";
import type { Tenant } from "../tenants/tenant.ts";

/**
 * The spidCode of a newly proofed identity: the IdP's four letters and ten digits from one
 * sequence per tenant (`identifier_counters`), so that no code is ever given twice, whichever
 * node proofs. A tenant whose accounts had codes before the sequence existed continues after the
 * highest of them.
 */
export async function nextSpidCode(repos: Repos, tenant: Tenant): Promise<string> {
  const prefix = tenant.policy.enrolment?.proofing.spidCodePrefix ?? "TESS";
  const highest = await repos.accounts.highestSpidCode(tenant.id, prefix);
  const number = await repos.counters.next(tenant.id, "spid-code", (highest ?? 0) + 1);
  return `${prefix}${String(number).padStart(10, "0")}`;
}
