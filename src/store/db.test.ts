import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { dialects, freshPgSchemaUrl, freshStore } from "../../test/helpers/stores.ts";
import { openStore, redactUrl, type Store, StoreError } from "./db.ts";
import { migrations } from "./migrations/index.ts";
import { generateSchemaTypes } from "./schema-codegen.ts";

describe.each(dialects)("store on %s", (dialect) => {
  let store: Store;
  afterEach(async () => {
    await store?.close();
  });

  it("applies migrations once and reports none pending afterwards", async () => {
    store = await freshStore(dialect);
    expect(await store.pendingMigrations()).toEqual([]);
    expect(await store.migrate()).toEqual([]);
  });

  it("lists pending migrations on an empty database", async () => {
    store = openStore(dialect === "sqlite" ? "sqlite::memory:" : await freshPgSchemaUrl());
    const all = Object.keys(migrations(dialect));
    expect(all.slice(0, 3)).toEqual(["0001-foundation", "0002-identity", "0003-enrolment"]);
    expect(await store.pendingMigrations()).toEqual(all);
    expect(await store.migrate()).toEqual(all);
  });

  it("rolls a transaction back entirely when work inside it fails", async () => {
    store = await freshStore(dialect);
    await expect(
      store.transaction(async (repos) => {
        await repos.instance.getOrSet("a", "1");
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await store.repos.instance.get("a")).toBeUndefined();

    await store.transaction(async (repos) => {
      await repos.instance.getOrSet("a", "1");
    });
    expect(await store.repos.instance.get("a")).toBe("1");
  });

  it("fails loudly, instead of deadlocking, when the root store is used inside a transaction", async () => {
    store = await freshStore(dialect);
    const attempt = store.transaction(async (repos) => {
      await repos.instance.getOrSet("inside", "1");
      return store.repos.instance.get("outside");
    });
    if (dialect === "sqlite") await expect(attempt).rejects.toThrow(/inside a transaction \(it would deadlock SQLite\)/);
    else await expect(attempt).resolves.toBeUndefined();
  });

  it("runs repos.atomically in the surrounding transaction when there is one", async () => {
    store = await freshStore(dialect);
    await expect(
      store.transaction(async (repos) => {
        await repos.atomically((inner) => inner.instance.getOrSet("k", "v"));
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await store.repos.instance.get("k")).toBeUndefined();
    await store.repos.atomically((repos) => repos.instance.getOrSet("k", "v"));
    expect(await store.repos.instance.get("k")).toBe("v");
  });

  it("keeps the first value of an instance setting", async () => {
    store = await freshStore(dialect);
    expect(await store.repos.instance.getOrSet("k", "first")).toBe("first");
    expect(await store.repos.instance.getOrSet("k", "second")).toBe("first");
  });

  it("refuses updates and deletes of audit entries", async () => {
    store = await freshStore(dialect);
    await store.db
      .insertInto("audit_entries")
      .values({ tenant_id: "t", seq: 1, at: 1, type: "x", actor: "a", data: "{}", prev_hash: "p", hash: "h" })
      .execute();
    await expect(store.db.updateTable("audit_entries").set({ actor: "b" }).execute()).rejects.toThrow(/append-only/);
    await expect(store.db.deleteFrom("audit_entries").execute()).rejects.toThrow(/append-only/);
  });

  it("answers ping, and fails it once closed", async () => {
    store = await freshStore(dialect);
    await store.ping();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });

  it("has the tables and columns that schema.gen.ts declares", async () => {
    store = await freshStore(dialect);
    const committed = readFileSync(new URL("./schema.gen.ts", import.meta.url), "utf8");
    if (dialect === "sqlite") {
      expect(await generateSchemaTypes(store.db), "run `npm run db:codegen`").toBe(committed);
    } else {
      // PostgreSQL reports its own type names; the shape (tables, columns, nullability) must agree.
      // This store's schema only: other tests run beside it in schemas of their own, some altering their tables.
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
      const tables = await store.db.introspection.getTables();
      const mine = tables.filter((t) => t.schema === rows[0]!.schema && !t.name.startsWith("kysely_"));
      expect(mine.map((t) => t.name)).toContain("accounts");
      for (const table of mine) {
        for (const column of table.columns) {
          const type = `${column.dataType === "text" ? "string" : "number"}${column.isNullable ? " | null" : ""}`;
          const line = `  ${column.name}: ${column.hasDefaultValue || column.isAutoIncrementing ? `Generated<${type}>` : type};`;
          expect(committed, `${table.name}.${column.name}`).toContain(line);
        }
      }
    }
  });
});

describe("openStore", () => {
  it("refuses URLs it does not know, without showing passwords", () => {
    expect(() => openStore("mysql://u:secret@h/db")).toThrow(StoreError);
    expect(() => openStore("mysql://u:secret@h/db")).not.toThrow(/secret/);
    expect(redactUrl("postgres://u:secret@h/db")).toBe("postgres://u:***@h/db");
  });

  it("refuses an unsafe schema name", () => {
    expect(() => openStore("postgres://h/db?schema=x;drop")).toThrow(/invalid schema name/);
  });

  it("returns bigint columns as numbers on both engines", async () => {
    for (const dialect of dialects) {
      const store = await freshStore(dialect);
      const { rows } = await sql<{ n: number }>`select cast(9007199254740991 as bigint) as n`.execute(store.db);
      expect(rows[0]!.n).toBe(Number.MAX_SAFE_INTEGER);
      await store.close();
    }
  });

  it("checkpoints SQLite's write-ahead log in a worker thread, never in a commit, and closes cleanly", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "tessera-wal-"));
    const file = path.join(dir, "t.db");
    const store = openStore(`sqlite:${file}`);
    try {
      await store.migrate();
      await sql`create table filler (id integer primary key, text text)`.execute(store.db);
      const before = statSync(file).size;
      // Well past SQLite's own threshold (1,000 pages), which a commit would otherwise act on.
      for (let i = 0; i < 40; i++) {
        await store.db.transaction().execute(async (trx) => {
          for (let j = 0; j < 50; j++) await sql`insert into filler (text) values (${"x".repeat(2000)})`.execute(trx);
        });
      }
      expect(statSync(file).size).toBe(before);
      const deadline = Date.now() + 15_000;
      while (statSync(file).size === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(statSync(file).size).toBeGreaterThan(before + 4_000_000);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
