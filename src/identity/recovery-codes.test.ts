import { afterEach, describe, expect, it } from "vitest";
import { type IdentityFixture, identityFixture } from "../../test/helpers/identity.ts";
import { dialects } from "../../test/helpers/stores.ts";
import { generateRecoveryCodes, remainingRecoveryCodes, useRecoveryCode } from "./recovery-codes.ts";

const by = { actor: "test" };

describe.each(dialects)("recovery codes on %s", (dialect) => {
  let f: IdentityFixture;
  afterEach(async () => {
    await f?.store.close();
  });

  it("gives ten distinct single-use codes, stored hashed", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    const codes = await generateRecoveryCodes(f.deps, f.tenant, account, by);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}$/);
    const stored = await f.store.db.selectFrom("recovery_codes").selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain(codes[0]!.replace("-", ""));

    expect(await useRecoveryCode(f.deps, account, codes[3]!)).toEqual({ ok: true, remaining: 9 });
    expect(await useRecoveryCode(f.deps, account, codes[3]!)).toEqual({ ok: false, reason: "recovery_code.used" });
    // As typed: lower case, spaces, no dash.
    expect(await useRecoveryCode(f.deps, account, ` ${codes[4]!.toLowerCase().replace("-", " ")} `)).toEqual({ ok: true, remaining: 8 });
    expect(await useRecoveryCode(f.deps, account, "AAAAA-AAAAA")).toEqual({ ok: false, reason: "recovery_code.invalid" });
  });

  it("voids the old codes when new ones are made, and belong to one account", async () => {
    f = await identityFixture(dialect);
    const account = await f.account();
    const other = await f.account();
    const old = await generateRecoveryCodes(f.deps, f.tenant, account, by);
    const fresh = await generateRecoveryCodes(f.deps, f.tenant, account, by);
    expect(await useRecoveryCode(f.deps, account, old[0]!)).toEqual({ ok: false, reason: "recovery_code.invalid" });
    expect(await useRecoveryCode(f.deps, other, fresh[0]!)).toEqual({ ok: false, reason: "recovery_code.invalid" });
    expect(await useRecoveryCode(f.deps, account, fresh[0]!)).toMatchObject({ ok: true });
    expect(await remainingRecoveryCodes(f.deps, account)).toBe(9);
  });
});
