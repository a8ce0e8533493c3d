import type { z } from "zod";
import type { Store } from "../../src/store/db.ts";
import type { TenantPolicy } from "../../src/tenants/policy.ts";
import { findTenant } from "../../src/tenants/service.ts";
import type { Tenant } from "../../src/tenants/tenant.ts";

/** Changes a tenant's policy in the store (the next request reads it) and returns the tenant as read back. */
export async function updatePolicy(store: Store, tenantId: string, change: (policy: z.input<typeof TenantPolicy>) => void): Promise<Tenant> {
  const row = await store.db.selectFrom("tenants").select("policy").where("id", "=", tenantId).executeTakeFirstOrThrow();
  const policy = JSON.parse(row.policy) as z.input<typeof TenantPolicy>;
  change(policy);
  await store.db.updateTable("tenants").set({ policy: JSON.stringify(policy) }).where("id", "=", tenantId).execute();
  return (await findTenant(store.repos, tenantId))!;
}
