import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { dialects, fakeClock, freshStore } from "../../test/helpers/stores.ts";
import { verifyAuditChain } from "../audit/service.ts";
import { TesseraError, ValidationError } from "../shared/errors.ts";
import type { Store } from "../store/db.ts";
import { demoTenants } from "./demo.ts";
import { createTenant, ensureTenants, findTenant, listTenants } from "./service.ts";

const cli = { actor: "cli" };
const valid = { id: "acme", displayName: "ACME ID", locales: ["en", "it"] };

describe.each(dialects)("tenants on %s", (dialect) => {
  let store: Store;
  afterEach(async () => {
    await store?.close();
  });

  it("creates a tenant with defaults, audited", async () => {
    store = await freshStore(dialect);
    const clock = fakeClock();
    const tenant = await createTenant(store, clock, valid, cli);
    expect(tenant).toMatchObject({
      id: "acme",
      displayName: "ACME ID",
      locales: ["en", "it"],
      defaultLocale: "en",
      policy: { identifier: "email" },
      branding: { primaryColor: "#1f4e79" },
      createdAt: clock.now(),
    });
    expect(await findTenant(store.repos, "acme")).toEqual(tenant);
    const [entry] = await store.repos.audit.page("acme", 0, 10);
    expect(entry).toMatchObject({ type: "tenant.created", actor: "cli", seq: 1 });
  });

  it("refuses a second tenant with the same id", async () => {
    store = await freshStore(dialect);
    await createTenant(store, fakeClock(), valid, cli);
    const attempt = createTenant(store, fakeClock(), { ...valid, displayName: "Other" }, cli);
    await expect(attempt).rejects.toThrow(TesseraError);
    await expect(createTenant(store, fakeClock(), valid, cli)).rejects.toMatchObject({ code: "tenant.exists", status: 409 });
    expect((await findTenant(store.repos, "acme"))?.displayName).toBe("ACME ID");
    expect((await verifyAuditChain(store.repos, "acme")).entries).toBe(1);
  });

  it.each([
    [{ ...valid, id: "A" }, "id"],
    [{ ...valid, id: "9lives" }, "id"],
    [{ ...valid, displayName: "  " }, "displayName"],
    [{ ...valid, locales: [] }, "locales"],
    [{ ...valid, locales: ["en", "en"] }, "locales"],
    [{ ...valid, locales: ["fr"] }, "locales.0"],
    [{ ...valid, defaultLocale: "es" }, "defaultLocale"],
    [{ ...valid, policy: { identifier: "phone" } }, "policy.identifier"],
    [{ ...valid, policy: { pasword: {} } }, "policy"],
    [{ ...valid, branding: { primaryColor: "red" } }, "branding.primaryColor"],
    [{ ...valid, extra: 1 }, ""],
  ])("rejects %j naming the field %s, and writes nothing", async (input, field) => {
    store = await freshStore(dialect);
    const attempt = createTenant(store, fakeClock(), input, cli);
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await attempt.catch((err: ValidationError) => {
      expect(err.code).toBe("tenant.invalid");
      expect(err.issues.map((i) => i.field)).toContain(field);
    });
    expect(await listTenants(store.repos)).toEqual([]);
    expect(await store.repos.audit.chainIds()).toEqual([]);
  });

  it("leaves no tenant behind when its audit entry cannot be written", async () => {
    store = await freshStore(dialect);
    await sql`drop table audit_heads`.execute(store.db);
    await expect(createTenant(store, fakeClock(), valid, cli)).rejects.toThrow();
    expect(await listTenants(store.repos)).toEqual([]);
  });

  it("creates the demo tenants once, however often asked", async () => {
    store = await freshStore(dialect);
    expect(await ensureTenants(store, fakeClock(), demoTenants, cli)).toEqual(["national", "university", "pro"]);
    expect(await ensureTenants(store, fakeClock(), demoTenants, cli)).toEqual([]);
    const tenants = await listTenants(store.repos);
    expect(tenants.map((t) => [t.id, t.defaultLocale, t.policy.identifier])).toEqual([
      ["national", "it", "email"],
      ["pro", "es", "dni"],
      ["university", "it", "codice_persona"],
    ]);
    for (const t of tenants) expect((await verifyAuditChain(store.repos, t.id)).entries).toBe(1);
  });
});
