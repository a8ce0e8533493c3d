import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { dialects, freshStore } from "../../test/helpers/stores.ts";
import type { Store } from "./db.ts";
import { prepared } from "./prepared.ts";

const byId = prepared((db, p: { id: string }) => db.selectFrom("tenants").select(["id", "display_name"]).where("id", "=", p.id));
const rename = prepared((db, p: { id: string; name: string }) => db.updateTable("tenants").set({ display_name: p.name }).where("id", "=", p.id));

async function addTenant(store: Store, id: string) {
  await store.db
    .insertInto("tenants")
    .values({ id, display_name: id, locales: "[]", default_locale: "it", policy: "{}", branding: "{}", created_at: 0, updated_at: 0 })
    .execute();
}

describe.each(dialects)("prepared queries on %s", (dialect) => {
  let store: Store;
  afterEach(async () => store?.close());

  it("bind each run's values by name, on the pool and in a transaction, as many times as run", async () => {
    store = await freshStore(dialect);
    await addTenant(store, "alpha");
    await addTenant(store, "beta");
    expect((await byId(store.db, { id: "alpha" })).rows).toEqual([{ id: "alpha", display_name: "alpha" }]);
    expect((await byId(store.db, { id: "beta" })).rows).toEqual([{ id: "beta", display_name: "beta" }]);
    await store.db.transaction().execute(async (trx) => {
      await rename(trx, { name: "Beta SpA", id: "beta" });
      expect((await byId(trx, { id: "beta" })).rows).toEqual([{ id: "beta", display_name: "Beta SpA" }]);
    });
    expect((await byId(store.db, { id: "alpha" })).rows[0]?.display_name).toBe("alpha");
    expect((await byId(store.db, { id: "nobody" })).rows).toEqual([]);
  });

  it("refuse a query with a parameter that is not a placeholder (it would be frozen into every run)", async () => {
    store = await freshStore(dialect);
    const frozen = prepared((db, p: { id: string }) => db.selectFrom("tenants").selectAll().where("id", "=", p.id).where("display_name", "=", "fixed"));
    await expect(frozen(store.db, { id: "alpha" })).rejects.toThrow(/not a placeholder \(fixed\)/);
  });
});

describe.runIf(dialects.includes("postgres" as never))("prepared statements on PostgreSQL", () => {
  let store: Store;
  afterEach(async () => store?.close());

  it("survive a column added by another node's migration: one failure, then the connection replaced", async () => {
    store = await freshStore("postgres");
    const selectAll = prepared((db, p: { id: string }) => db.selectFrom("tenants").selectAll().where("id", "=", p.id));
    await addTenant(store, "alpha");
    // One connection, so that the statement prepared is the one run again.
    await store.db.connection().execute(async (db) => {
      expect((await selectAll(db, { id: "alpha" })).rows).toHaveLength(1);
      await sql`alter table tenants add column extra text default 'x'`.execute(db);
      // PostgreSQL refuses the plan it cached for the old row type, once…
      await expect(selectAll(db, { id: "alpha" })).rejects.toThrow(/cached plan must not change result type/);
    });
    // …and the pool, that connection ended, runs the statement on a new one, which prepares it anew.
    for (let i = 0; i < 3; i++) {
      const rows = (await selectAll(store.db, { id: "alpha" })).rows as unknown as Record<string, unknown>[];
      expect(rows[0]?.extra).toBe("x");
    }
  });
});
