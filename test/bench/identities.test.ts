import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Secret, TOTP } from "otpauth";
import { afterEach, describe, expect, it } from "vitest";
import { addIdentities, addSessions, identifierOf, PASSWORD, totpSecret } from "../../bench/identities.ts";
import { findAccountByIdentifier } from "../../src/identity/accounts.ts";
import { verifyPassword } from "../../src/identity/password/service.ts";
import { findSession } from "../../src/identity/sessions.ts";
import { verifyTotp } from "../../src/identity/totp.ts";
import { systemClock } from "../../src/shared/clock.ts";
import { loadMasterKey } from "../../src/shared/crypto/master-key.ts";
import { createSecrets } from "../../src/shared/crypto/secrets.ts";
import { openStore } from "../../src/store/db.ts";
import { demoTenants } from "../../src/tenants/demo.ts";
import { createTenant } from "../../src/tenants/service.ts";
import { withCheapHashing } from "../helpers/identity.ts";
import { dialects, freshPgSchemaUrl } from "../helpers/stores.ts";

/** The benchmarks' bulk generator writes identities the server's own code signs in. */
describe.each(dialects)("bench identities (%s)", (dialect) => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function store() {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-bench-test-"));
    dirs.push(dataDir);
    const databaseUrl = dialect === "sqlite" ? `sqlite:${path.join(dataDir, "tessera.db")}` : await freshPgSchemaUrl();
    const s = openStore(databaseUrl);
    await s.migrate();
    const tenant = await createTenant(s, systemClock, withCheapHashing(demoTenants.find((t) => t.id === "national")!), { actor: "test" });
    const deps = { repos: s.repos, clock: systemClock, secrets: createSecrets(loadMasterKey(undefined, dataDir).key) };
    return { s, tenant, deps, dataDir, databaseUrl };
  }

  it("adds identities in bulk that sign in with the password, and with the authenticator app where they have one", async () => {
    const { s, tenant, deps, dataDir, databaseUrl } = await store();
    try {
      await addIdentities({ databaseUrl, dataDir, from: 100, count: 25, totp: 3 });
      await addIdentities({ databaseUrl, dataDir, from: 125, count: 5 });
      expect(await s.db.selectFrom("accounts").select((eb) => eb.fn.countAll<number>().as("n")).where("tenant_id", "=", "national").executeTakeFirstOrThrow()).toEqual({ n: 30 });

      const account = (await findAccountByIdentifier(deps, tenant, identifierOf(129)))!;
      expect(account).toMatchObject({ state: "active", email: identifierOf(129) });
      expect(await verifyPassword(deps, tenant, account, PASSWORD)).toMatchObject({ ok: true, expired: false, mustChange: false });
      expect(await verifyPassword(deps, tenant, account, `${PASSWORD}x`)).toEqual({ ok: false });
      expect(await findAccountByIdentifier(deps, tenant, identifierOf(130))).toBeUndefined();

      const code = (n: number) => new TOTP({ secret: Secret.fromBase32(totpSecret(n)), digits: 6, period: 30, algorithm: "SHA1" }).generate();
      const withApp = (await findAccountByIdentifier(deps, tenant, identifierOf(102)))!;
      expect(await verifyTotp(deps, tenant, withApp, code(101))).toEqual({ ok: false, reason: "totp.invalid" });
      expect(await verifyTotp(deps, tenant, withApp, code(102))).toMatchObject({ ok: true });
      expect(await verifyTotp(deps, tenant, withApp, code(102))).toEqual({ ok: false, reason: "totp.replayed" });
      expect(await verifyTotp(deps, tenant, (await findAccountByIdentifier(deps, tenant, identifierOf(103)))!, code(103))).toEqual({ ok: false, reason: "totp.not_enrolled" });

      const tokens = await addSessions({ databaseUrl, count: 40 });
      expect(new Set(tokens).size).toBe(40);
      const session = await findSession(deps, tenant, tokens[39]!);
      expect(session).toMatchObject({ level: 1, amr: ["password"], tenantId: "national" });
      expect(await findSession(deps, tenant, "not-a-token")).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it("refuses an unknown tenant and an identity that exists already, writing nothing", async () => {
    const { s, dataDir, databaseUrl } = await store();
    try {
      await expect(addIdentities({ databaseUrl, dataDir, tenant: "nowhere", count: 3 })).rejects.toThrow("no tenant nowhere");
      await addIdentities({ databaseUrl, dataDir, count: 3 });
      await expect(addIdentities({ databaseUrl, dataDir, from: 2, count: 3 })).rejects.toThrow(/unique|UNIQUE/);
      expect(await s.db.selectFrom("accounts").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).toEqual({ n: 3 });
      expect(await s.db.selectFrom("passwords").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).toEqual({ n: 3 });
    } finally {
      await s.close();
    }
  });
});
