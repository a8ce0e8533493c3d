import { createAccount, findAccountByIdentifier } from "../identity/accounts.ts";
import type { IdentityDeps } from "../identity/deps.ts";
import { grantOperatorRole } from "../identity/operators.ts";
import { nextSpidCode } from "../identity/spid-code.ts";
import { hashSecret } from "../identity/password/hashing.ts";
import { setPassword } from "../identity/password/service.ts";
import { TesseraError } from "../shared/errors.ts";
import { demoTenants } from "../tenants/demo.ts";
import { ensureTenants, findTenant } from "../tenants/service.ts";
import type { Store } from "../store/db.ts";
import { demoIdentities } from "./identities.ts";

/**
 * `tessera start --demo`: the demo tenants and identities, created if missing. Safe when several
 * nodes start at once: whoever comes second finds everything in place.
 */
export async function seedDemo(store: Store, deps: IdentityDeps): Promise<void> {
  const by = { actor: "system:demo" };
  await ensureTenants(store, deps.clock, demoTenants, by);
  for (const demo of demoIdentities) {
    const tenant = (await findTenant(store.repos, demo.tenant))!;
    if (await findAccountByIdentifier(deps, tenant, demo.account.identifier, demo.account.kind ?? "identity")) continue;
    await store
      .transaction(async (repos) => {
        const tx = { ...deps, repos };
        // Nodes starting together take turns: the second finds the account made. (Racing inserts
        // would collide on the codice fiscale's unique index, which ON CONFLICT does not cover.)
        await repos.lock(`demo-seed:${tenant.id}:${demo.account.identifier}`);
        if (await findAccountByIdentifier(tx, tenant, demo.account.identifier, demo.account.kind ?? "identity")) return;
        // A proofed identity takes its spidCode from the tenant's sequence, as an approval would.
        const spidCode = demo.account.state === "active" && demo.account.identificationMethod ? await nextSpidCode(repos, tenant) : undefined;
        const account = await createAccount(tx, tenant, { ...demo.account, ...(spidCode ? { spidCode } : {}) }, by);
        for (const grant of demo.operator ?? []) await grantOperatorRole(tx, tenant, account, grant, by);
        if (demo.legacyPassword) {
          await repos.accounts.setPassword({
            account_id: account.id,
            hash: await hashSecret(demo.password, tenant.policy.password.hashing),
            set_at: deps.clock.now(),
            must_change: 0,
          });
        } else {
          await setPassword(tx, tenant, account, demo.password, by);
        }
      })
      .catch((err: unknown) => {
        // Another node seeded it between our look-up and our insert.
        if (!(err instanceof TesseraError && err.code === "account.identifier_taken")) throw err;
      });
  }
}
