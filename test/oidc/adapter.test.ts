import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { storeAdapter } from "../../src/federation/oidc/adapter.ts";
import { loadOidcProvider } from "../../src/federation/oidc/internals.ts";
import { createSecrets } from "../../src/shared/crypto/secrets.ts";
import type { Store } from "../../src/store/db.ts";
import { demoTenants } from "../../src/tenants/demo.ts";
import { ensureTenants } from "../../src/tenants/service.ts";
import { dialects, fakeClock, freshStore } from "../helpers/stores.ts";

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

/** The contract oidc-provider expects of an adapter (its example/my_adapter.js), on each engine. */
describe.each(dialects)("the OIDC store adapter (%s)", (dialect) => {
  async function adapterFor(model: string, tenant = "national") {
    store ??= await freshStore(dialect);
    await ensureTenants(store, fakeClock(), demoTenants, { actor: "test" });
    const clock = fakeClock();
    const deps = { repos: store.repos, clock, secrets: createSecrets(randomBytes(32)) };
    const oidc = await loadOidcProvider();
    const Adapter = storeAdapter(deps, tenant, oidc.errors, () => Promise.resolve(undefined));
    return { adapter: new Adapter(model), clock, store, oidc };
  }

  it("stores, finds, updates and destroys a model, keeping its id hashed and its payload sealed", async () => {
    const { adapter, store } = await adapterFor("AccessToken");
    const token = randomBytes(32).toString("base64url");
    await adapter.upsert(token, { jti: token, kind: "AccessToken", accountId: "acc-1", clientId: "c-1", grantId: "g-1" }, 60);
    expect(await adapter.find(token)).toMatchObject({ jti: token, accountId: "acc-1" });
    await adapter.upsert(token, { jti: token, kind: "AccessToken", accountId: "acc-1", clientId: "c-1", grantId: "g-1", scope: "openid" }, 60);
    expect(await adapter.find(token)).toMatchObject({ scope: "openid" });

    const rows = await store.db.selectFrom("oidc_models").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0]).toMatchObject({ tenant_id: "national", model: "AccessToken", grant_id: "g-1", account_id: "acc-1", client_id: "c-1" });

    await adapter.destroy(token);
    expect(await adapter.find(token)).toBeUndefined();
  });

  it("never returns an expired model", async () => {
    const { adapter, clock } = await adapterFor("AuthorizationCode");
    await adapter.upsert("code-1", { jti: "code-1", kind: "AuthorizationCode" }, 60);
    clock.advance(59_000);
    expect(await adapter.find("code-1")).toBeDefined();
    clock.advance(1_000);
    expect(await adapter.find("code-1")).toBeUndefined();
  });

  it("consumes once: a second consumption fails with invalid_grant and revokes the grant", async () => {
    const { adapter, oidc, store } = await adapterFor("AuthorizationCode");
    const Access = storeAdapter({ repos: store.repos, clock: fakeClock(), secrets: createSecrets(randomBytes(32)) }, "national", oidc.errors, () => Promise.resolve(undefined));
    const tokens = new Access("AccessToken");
    await adapter.upsert("code-2", { jti: "code-2", kind: "AuthorizationCode", grantId: "g-2" }, 60);
    await tokens.upsert("at-2", { jti: "at-2", kind: "AccessToken", grantId: "g-2" }, 60);

    const results = await Promise.allSettled([adapter.consume("code-2"), adapter.consume("code-2"), adapter.consume("code-2")]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(oidc.errors.InvalidGrant);
    expect(await tokens.find("at-2")).toBeUndefined();
  });

  it("marks a consumed model, finds sessions by uid and revokes everything of a grant", async () => {
    const { adapter } = await adapterFor("RefreshToken");
    await adapter.upsert("rt-1", { jti: "rt-1", kind: "RefreshToken", grantId: "g-3" }, 60);
    await adapter.consume("rt-1");
    expect(await adapter.find("rt-1")).toMatchObject({ consumed: expect.any(Number) });
    await adapter.revokeByGrantId("g-3");
    expect(await adapter.find("rt-1")).toBeUndefined();

    const { adapter: sessions } = await adapterFor("Session");
    await sessions.upsert("cookie-1", { jti: "cookie-1", uid: "uid-1", kind: "Session", accountId: "acc-9" }, 60);
    expect(await sessions.findByUid("uid-1")).toMatchObject({ jti: "cookie-1" });
    expect(await sessions.findByUid("uid-2")).toBeUndefined();
  });

  it("keeps tenants apart", async () => {
    const { adapter } = await adapterFor("Grant", "national");
    await adapter.upsert("grant-1", { jti: "grant-1", kind: "Grant", accountId: "a" }, 60);
    const { adapter: other } = await adapterFor("Grant", "pro");
    expect(await other.find("grant-1")).toBeUndefined();
    expect(await adapter.find("grant-1")).toBeDefined();
  });
});
