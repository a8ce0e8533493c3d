import { afterEach, describe, expect, it } from "vitest";
import { CHEAP_HASHING, type IdentityFixture, identityFixture, withCheapHashing } from "../../../test/helpers/identity.ts";
import { dialects } from "../../../test/helpers/stores.ts";
import { ValidationError } from "../../shared/errors.ts";
import { demoTenants } from "../../tenants/demo.ts";
import type { TenantInput } from "../../tenants/tenant.ts";
import { needsRehash } from "./hashing.ts";
import { checkNewPassword, passwordExpiresAt, setPassword, verifyPassword } from "./service.ts";

const DAY = 86_400_000;
const by = { actor: "test" };
const national = withCheapHashing(demoTenants.find((t) => t.id === "national")!);
const withHistory = (count: number, months: number): TenantInput => ({
  id: "hist",
  displayName: "History",
  locales: ["en"],
  policy: { password: { minLength: 8, hashing: CHEAP_HASHING, history: { count, months } } },
});

describe.each(dialects)("passwords on %s", (dialect) => {
  let f: IdentityFixture;
  afterEach(async () => {
    await f?.store.close();
  });

  it("sets a password meeting the policy and verifies it", async () => {
    f = await identityFixture(dialect, national);
    const account = await f.account();
    await setPassword(f.deps, f.tenant, account, "Tessera-Demo-2026!", by);
    expect(await verifyPassword(f.deps, f.tenant, account, "Tessera-Demo-2026!")).toMatchObject({ ok: true, expired: false });
    expect(await verifyPassword(f.deps, f.tenant, account, "Tessera-Demo-2026?")).toEqual({ ok: false });
    const stored = await f.store.repos.accounts.password(account.id);
    expect(stored!.hash).toMatch(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
    expect(stored!.hash).not.toContain("Tessera");
    const [entry] = (await f.store.repos.audit.page("national", 0, 10)).filter((e) => e.type === "password.set");
    expect(entry?.subject).toBe(account.id);
  });

  it("reports every broken rule, with its localisable code, and writes nothing", async () => {
    f = await identityFixture(dialect, national);
    const account = await f.account({ givenName: "Mario", familyName: "Rossi" });
    const attempt = setPassword(f.deps, f.tenant, account, "mario", by);
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    const error = (await attempt.catch((e: unknown) => e)) as ValidationError;
    expect(error.issues.map((i) => i.code)).toEqual([
      "password.min_length",
      "password.uppercase",
      "password.digit",
      "password.special",
      "password.personal_data",
      "password.common",
    ]);
    expect(error.issues[0]).toMatchObject({ field: "password", message: "At least 8 characters", params: { min: 8 } });
    expect(await f.store.repos.accounts.password(account.id)).toBeUndefined();
    expect((await f.store.repos.audit.page("national", 0, 10)).map((e) => e.type)).not.toContain("password.set");
  });

  it("refuses the 5th most recent password and accepts the 6th (history of 5, current included)", async () => {
    f = await identityFixture(dialect, withHistory(5, 0));
    const account = await f.account();
    for (let i = 1; i <= 6; i++) {
      f.clock.advance(DAY);
      await setPassword(f.deps, f.tenant, account, `Password-number-${i}`, by);
    }
    // Current: 6. The last five: 6, 5, 4, 3, 2.
    for (const i of [6, 5, 2]) {
      expect((await checkNewPassword(f.deps, f.tenant, account, `Password-number-${i}`)).map((r) => r.rule)).toEqual(["password.reused"]);
    }
    expect(await checkNewPassword(f.deps, f.tenant, account, "Password-number-1")).toEqual([]);
    // Only what the policy can still ask about is kept: 4 past passwords besides the current one.
    expect(await f.store.repos.accounts.passwordHistory(account.id)).toHaveLength(4);
  });

  it("refuses a password in use during the last 15 months, and accepts it after", async () => {
    f = await identityFixture(dialect, withHistory(1, 15));
    const account = await f.account();
    await setPassword(f.deps, f.tenant, account, "First-password-1", by);
    f.clock.advance(30 * DAY);
    await setPassword(f.deps, f.tenant, account, "Second-password-2", by);
    const retiredAt = f.clock.now();
    const fifteenMonthsAfter = new Date(retiredAt);
    fifteenMonthsAfter.setUTCMonth(fifteenMonthsAfter.getUTCMonth() + 15);

    f.clock.advance(fifteenMonthsAfter.getTime() - retiredAt - 60_000);
    expect((await checkNewPassword(f.deps, f.tenant, account, "First-password-1")).map((r) => r.rule)).toEqual(["password.reused"]);
    f.clock.advance(120_000);
    expect(await checkNewPassword(f.deps, f.tenant, account, "First-password-1")).toEqual([]);
  });

  it("expires passwords after the maximum age: valid a minute before, expired at 180 days", async () => {
    f = await identityFixture(dialect, national);
    const account = await f.account();
    await setPassword(f.deps, f.tenant, account, "Tessera-Demo-2026!", by);
    const setAt = f.clock.now();
    expect(passwordExpiresAt(f.tenant.policy.password, setAt)).toBe(setAt + 180 * DAY);
    f.clock.advance(180 * DAY - 60_000);
    expect(await verifyPassword(f.deps, f.tenant, account, "Tessera-Demo-2026!")).toMatchObject({ ok: true, expired: false });
    f.clock.advance(60_000);
    expect(await verifyPassword(f.deps, f.tenant, account, "Tessera-Demo-2026!")).toMatchObject({ ok: true, expired: true });
  });

  it("upgrades a hash made with older parameters at the next successful sign-in", async () => {
    f = await identityFixture(dialect, national);
    const account = await f.account();
    await setPassword(f.deps, f.tenant, account, "Tessera-Demo-2026!", by);
    const before = (await f.store.repos.accounts.password(account.id))!.hash;
    const stronger = { ...f.tenant, policy: { ...f.tenant.policy, password: { ...f.tenant.policy.password, hashing: { memoryKiB: 9216, iterations: 2, parallelism: 1 } } } };
    expect(needsRehash(before, stronger.policy.password.hashing)).toBe(true);

    expect(await verifyPassword(f.deps, stronger, account, "wrong-password")).toEqual({ ok: false });
    expect((await f.store.repos.accounts.password(account.id))!.hash).toBe(before);

    expect(await verifyPassword(f.deps, stronger, account, "Tessera-Demo-2026!")).toMatchObject({ ok: true });
    const after = (await f.store.repos.accounts.password(account.id))!.hash;
    expect(after).toMatch(/^\$argon2id\$v=19\$m=9216,t=2,p=1\$/);
    expect(await verifyPassword(f.deps, stronger, account, "Tessera-Demo-2026!")).toMatchObject({ ok: true });
  });

  it("answers an unknown account like a wrong password", async () => {
    f = await identityFixture(dialect, national);
    expect(await verifyPassword(f.deps, f.tenant, undefined, "Tessera-Demo-2026!")).toEqual({ ok: false });
    const noPassword = await f.account();
    expect(await verifyPassword(f.deps, f.tenant, noPassword, "Tessera-Demo-2026!")).toEqual({ ok: false });
  });
});
