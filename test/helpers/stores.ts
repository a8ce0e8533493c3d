import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { openStore, type Store } from "../../src/store/db.ts";

export const pgUrl = inject("pgUrl");

/** The engines every store test runs on: SQLite always, PostgreSQL when enabled for the run. */
export const dialects = pgUrl ? (["sqlite", "postgres"] as const) : (["sqlite"] as const);

/** A PostgreSQL URL pointing at a new, empty schema of the run's database. */
export async function freshPgSchemaUrl(): Promise<string> {
  if (!pgUrl) throw new Error("PostgreSQL tests are off");
  const schema = `s_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const url = new URL(pgUrl);
  url.searchParams.set("schema", schema);
  return url.toString();
}

/** A migrated, empty store on the given engine. */
export async function freshStore(dialect: "sqlite" | "postgres"): Promise<Store> {
  const url = dialect === "sqlite" ? "sqlite::memory:" : await freshPgSchemaUrl();
  const store = openStore(url);
  await store.migrate();
  return store;
}

/** A clock tests move by hand. */
export function fakeClock(start = Date.UTC(2026, 10, 24, 9, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
