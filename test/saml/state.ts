import type { Tenant } from "../../src/tenants/tenant.ts";
import type { OidcTestApp } from "../helpers/oidc.ts";

/** Sets an account's state directly in the store (an operator's suspension, say). */
export async function updateAccountState(t: Pick<OidcTestApp, "store">, tenant: Tenant, identifier: string, state: string): Promise<void> {
  await t.store.db.updateTable("accounts").set({ state }).where("tenant_id", "=", tenant.id).where("identifier", "=", identifier).execute();
}
