import { describe, expect, it } from "vitest";
import { findTenant } from "../../tenants/service.ts";
import { identityFixture } from "../../../test/helpers/identity.ts";
import { decoyHashOf, ensureDecoyHashes } from "./decoy.ts";
import { needsRehash, verifySecret } from "./hashing.ts";
import { hashingPool } from "./hashing-pool.ts";
import { verifyPassword } from "./service.ts";

const hashes = () => hashingPool.stats().hashes;

describe("the tenant's decoy hash", () => {
  it("is made once, at the tenant's cost, stored with the tenant, and matches nothing", async () => {
    const f = await identityFixture("sqlite");
    const decoy = f.tenant.decoyHash!;
    expect(decoy).toMatch(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
    expect(needsRehash(decoy, f.tenant.policy.password.hashing)).toBe(false);
    for (const guess of ["", "tessera-dummy-password", "Quercia-Verde-2026!"]) expect(await verifySecret(decoy, guess)).toBe(false);
    // Current already: a node starting later makes none.
    expect(await ensureDecoyHashes(f.store.repos, [f.tenant])).toEqual([]);
    expect((await findTenant(f.store.repos, f.tenant.id))!.decoyHash).toBe(decoy);
  });

  it("is what an unknown identifier is verified against, without a hash made on the way", async () => {
    const f = await identityFixture("sqlite");
    const before = hashes();
    expect(await verifyPassword(f.deps, f.tenant, undefined, "Quercia-Verde-2026!")).toEqual({ ok: false });
    expect(decoyHashOf(f.tenant)).toBe(f.tenant.decoyHash);
    expect(hashes()).toBe(before);
  });

  it("is made anew when the tenant's cost changes, and meanwhile made here once", async () => {
    const f = await identityFixture("sqlite");
    const dearer = { ...f.tenant, policy: { ...f.tenant.policy, password: { ...f.tenant.policy.password, hashing: { memoryKiB: 9216, iterations: 1, parallelism: 1 } } } };
    const before = hashes();
    const here = await decoyHashOf(dearer);
    expect(here).toMatch(/\$m=9216,t=1,p=1\$/);
    expect(await decoyHashOf(dearer)).toBe(here);
    expect(hashes()).toBe(before + 1);
    expect(await ensureDecoyHashes(f.store.repos, [dearer])).toEqual([f.tenant.id]);
    expect((await findTenant(f.store.repos, f.tenant.id))!.decoyHash).toMatch(/\$m=9216,t=1,p=1\$/);
  });
});
