import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { dialects, fakeClock, freshPgSchemaUrl, freshStore, pgUrl } from "../../test/helpers/stores.ts";
import { openStore, type Store } from "../store/db.ts";
import { canonicalJson, entryHash, GENESIS_HASH } from "./chain.ts";
import { recordAudit, verifyAuditChain } from "./service.ts";

/** Stands in for someone with database access: the triggers are dropped before tampering. */
async function dropAppendOnlyGuards(store: Store) {
  if (store.dialect === "postgres") {
    await sql`drop trigger audit_entries_append_only on audit_entries`.execute(store.db);
  } else {
    await sql`drop trigger audit_entries_no_update`.execute(store.db);
    await sql`drop trigger audit_entries_no_delete`.execute(store.db);
  }
}

async function record(store: Store, n: number, tenantId = "national") {
  const clock = fakeClock();
  for (let i = 0; i < n; i++) {
    clock.advance(1000);
    await recordAudit(store.repos, clock, { tenantId, type: "test.event", actor: "cli", data: { i } });
  }
}

describe("canonicalJson", () => {
  it("sorts keys at every level so that equal values hash equally", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });
});

describe.each(dialects)("audit log on %s", (dialect) => {
  let store: Store;
  afterEach(async () => {
    await store?.close();
  });

  it("chains entries: each stores the hash of the one before", async () => {
    store = await freshStore(dialect);
    await record(store, 3);
    const rows = await store.repos.audit.page("national", 0, 10);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rows[0]!.prev_hash).toBe(GENESIS_HASH);
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    expect(rows[2]!.prev_hash).toBe(rows[1]!.hash);
    for (const row of rows) expect(entryHash(row)).toBe(row.hash);
    expect(JSON.parse(rows[2]!.data)).toEqual({ i: 2 });
    expect(await verifyAuditChain(store.repos, "national")).toEqual({ tenantId: "national", intact: true, entries: 3 });
  });

  it("keeps one chain per tenant", async () => {
    store = await freshStore(dialect);
    await record(store, 2, "national");
    await record(store, 1, "pro");
    expect(await store.repos.audit.chainIds()).toEqual(["national", "pro"]);
    expect((await verifyAuditChain(store.repos, "pro")).entries).toBe(1);
  });

  it("verifies a chain longer than one page", async () => {
    store = await freshStore(dialect);
    const clock = fakeClock();
    await store.transaction(async (repos) => {
      for (let i = 0; i < 1005; i++) await recordAudit(repos, clock, { tenantId: "t", type: "x", actor: "a" });
    });
    expect(await verifyAuditChain(store.repos, "t")).toMatchObject({ intact: true, entries: 1005 });
  });

  it("names an edited entry", async () => {
    store = await freshStore(dialect);
    await record(store, 5);
    await dropAppendOnlyGuards(store);
    await store.db.updateTable("audit_entries").set({ actor: "someone-else" }).where("seq", "=", 3).execute();
    expect(await verifyAuditChain(store.repos, "national")).toMatchObject({
      intact: false,
      brokenAt: 3,
      problem: "entry 3 does not match its hash (edited)",
    });
  });

  it("names the entry after one that was edited and re-hashed", async () => {
    store = await freshStore(dialect);
    await record(store, 5);
    await dropAppendOnlyGuards(store);
    const [row] = await store.repos.audit.page("national", 2, 1);
    const forged = { ...row!, data: '{"i":99}' };
    await store.db
      .updateTable("audit_entries")
      .set({ data: forged.data, hash: entryHash(forged) })
      .where("seq", "=", 3)
      .execute();
    expect(await verifyAuditChain(store.repos, "national")).toMatchObject({ intact: false, brokenAt: 4 });
  });

  it.each([
    [3, 3, "entry 3 is missing (deleted)"],
    [1, 1, "entry 1 is missing (deleted)"],
    [5, 5, "entry 5 is missing (deleted)"],
  ])("names a deleted entry (seq %i)", async (seq, brokenAt, problem) => {
    store = await freshStore(dialect);
    await record(store, 5);
    await dropAppendOnlyGuards(store);
    await store.db.deleteFrom("audit_entries").where("seq", "=", seq).execute();
    expect(await verifyAuditChain(store.repos, "national")).toMatchObject({ intact: false, brokenAt, problem });
  });

  it("notices a deleted chain head", async () => {
    store = await freshStore(dialect);
    await record(store, 2);
    await store.db.deleteFrom("audit_heads").execute();
    expect(await verifyAuditChain(store.repos, "national")).toMatchObject({ intact: false, brokenAt: 2 });
    expect(await store.repos.audit.chainIds()).toEqual(["national"]);
  });

  it("writes an entry with the action's transaction, or not at all", async () => {
    store = await freshStore(dialect);
    await expect(
      store.transaction(async (repos) => {
        await recordAudit(repos, fakeClock(), { tenantId: "national", type: "x", actor: "a" });
        throw new Error("the action failed");
      }),
    ).rejects.toThrow();
    expect(await store.repos.audit.page("national", 0, 10)).toEqual([]);
    expect(await store.repos.audit.head("national")).toBeUndefined();
  });
});

describe.skipIf(!pgUrl)("audit log with several nodes on PostgreSQL", () => {
  it("keeps one intact chain when two nodes append at the same time", async () => {
    const url = await freshPgSchemaUrl();
    const nodes = [openStore(url, { poolSize: 4 }), openStore(url, { poolSize: 4 })];
    await nodes[0]!.migrate();
    try {
      const clock = fakeClock();
      await Promise.all(
        nodes.flatMap((node, n) =>
          Array.from({ length: 20 }, (_, i) =>
            recordAudit(node.repos, clock, { tenantId: "national", type: "x", actor: `node${n}`, data: { i } }),
          ),
        ),
      );
      expect(await verifyAuditChain(nodes[1]!.repos, "national")).toEqual({
        tenantId: "national",
        intact: true,
        entries: 40,
      });
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
  });
});
