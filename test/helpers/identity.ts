import { randomBytes } from "node:crypto";
import { type Account, createAccount, type NewAccount } from "../../src/identity/accounts.ts";
import type { IdentityDeps } from "../../src/identity/deps.ts";
import { createSecrets } from "../../src/shared/crypto/secrets.ts";
import type { Store } from "../../src/store/db.ts";
import { demoTenants } from "../../src/tenants/demo.ts";
import { ensureDecoyHashes } from "../../src/identity/password/decoy.ts";
import { createTenant, findTenant } from "../../src/tenants/service.ts";
import type { Tenant, TenantInput } from "../../src/tenants/tenant.ts";
import { fakeClock, freshStore } from "./stores.ts";

/** argon2id at its cheapest: for tests about rules rather than cost. */
export const CHEAP_HASHING = { memoryKiB: 8192, iterations: 1, parallelism: 1 };

export interface IdentityFixture {
  store: Store;
  clock: ReturnType<typeof fakeClock>;
  deps: IdentityDeps;
  tenant: Tenant;
  account(input?: Partial<NewAccount>): Promise<Account>;
}

/**
 * A fresh store with one tenant (by default the demo `national` tenant with cheap hashing), a fake
 * clock and real secrets.
 */
export async function identityFixture(
  dialect: "sqlite" | "postgres",
  tenantInput: TenantInput = withCheapHashing(demoTenants.find((t) => t.id === "national")!),
): Promise<IdentityFixture> {
  const store = await freshStore(dialect);
  const clock = fakeClock();
  const deps = { repos: store.repos, clock, secrets: createSecrets(randomBytes(32)) };
  const created = await createTenant(store, clock, tenantInput, { actor: "test" });
  await ensureDecoyHashes(store.repos, [created]);
  const tenant = (await findTenant(store.repos, created.id))!;
  let n = 0;
  return {
    store,
    clock,
    deps,
    tenant,
    account: (input = {}) =>
      createAccount(
        deps,
        tenant,
        {
          identifier: tenant.policy.identifier === "email" ? `user${++n}@example.it` : input.identifier ?? "",
          state: "active",
          email: `user${n}@example.it`,
          emailVerified: true,
          ...input,
        },
        { actor: "test" },
      ),
  };
}

export function withCheapHashing(tenant: TenantInput): TenantInput {
  const policy = tenant.policy ?? {};
  return { ...tenant, policy: { ...policy, password: { ...policy.password, hashing: CHEAP_HASHING } } };
}
