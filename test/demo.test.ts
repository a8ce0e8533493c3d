import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DEMO_PASSWORD, demoIdentities } from "../src/demo/identities.ts";
import { seedDemo } from "../src/demo/seed.ts";
import { findAccountByIdentifier } from "../src/identity/accounts.ts";
import { verifyPassword } from "../src/identity/password/service.ts";
import { checkPasswordRules } from "../src/identity/password/rules.ts";
import { createSecrets } from "../src/shared/crypto/secrets.ts";
import { findTenant } from "../src/tenants/service.ts";
import { fakeClock, freshStore } from "./helpers/stores.ts";

describe("demo identities", () => {
  it("are seeded once, sign in with the README's passwords, and all but the shop one meet their tenant's policy", async () => {
    const store = await freshStore("sqlite");
    const deps = { repos: store.repos, clock: fakeClock(), secrets: createSecrets(randomBytes(32)) };
    await seedDemo(store, deps);
    await seedDemo(store, deps);
    for (const demo of demoIdentities) {
      const tenant = (await findTenant(store.repos, demo.tenant))!;
      const account = await findAccountByIdentifier(deps, tenant, demo.account.identifier, demo.account.kind ?? "identity");
      expect(account, demo.account.identifier).toMatchObject({ state: "active" });
      expect(await verifyPassword(deps, tenant, account, demo.password)).toMatchObject({ ok: true, expired: false });
      const failures = checkPasswordRules(tenant.policy.password, demo.password, { ...demo.account, email: demo.account.email ?? null });
      expect(failures.length > 0, demo.account.identifier).toBe(demo.legacyPassword === true);
    }
    expect(demoIdentities.filter((d) => !d.legacyPassword).every((d) => d.password === DEMO_PASSWORD)).toBe(true);
    const mario = await store.repos.accounts.findByIdentifier("national", "identity", "mario.rossi@example.it");
    expect(mario).toMatchObject({ fiscal_code: "RSSMRA80A01H501U", phone: "+393331234567", spid_code: "TESS0000000001" });
    expect(mario!.phone_verified_at).not.toBeNull();
    await store.close();
  });
});
