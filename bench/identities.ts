/**
 * Bulk identities for the benchmarks: active, e-mail-verified citizens of a tenant, each with a
 * password, and optionally an authenticator app (TOTP), written straight into the store in large
 * batches (a prepared statement in one transaction per batch on SQLite, `unnest` arrays on
 * PostgreSQL), so that a million take about a minute rather than the hours one argon2id hash each
 * would. They all share one argon2id hash made once at the tenant's cost: checking it costs what
 * checking a hash of one's own does, which is what a login benchmark needs.
 *
 * Identity `n` is `persona<n>@bench.tessera.example` (its number in `family_name`), so that a
 * benchmark can pick any of them; the TOTP secret of identity `n` is derived from `n` the same way
 * here and in the load generator (`totpSecret`).
 *
 *   npm run bench:identities -- --count 1000000 [--from 0] [--totp 0] [--tenant national]
 *       [--data-dir DIR | --database-url postgres://…?schema=NAME]
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import pg from "pg";
import { Secret } from "otpauth";
import { hashSecret } from "../src/identity/password/hashing.ts";
import { loadMasterKey } from "../src/shared/crypto/master-key.ts";
import { createSecrets } from "../src/shared/crypto/secrets.ts";
import { newSessionRow } from "../src/identity/sessions.ts";
import { newId } from "../src/shared/ids.ts";
import { openStore, postgresConnection } from "../src/store/db.ts";
import { findTenant } from "../src/tenants/service.ts";

export const PASSWORD = "Quercia-Verde-2026!";

export const identifierOf = (n: number) => `persona${n}@bench.tessera.example`;

/** Identity n's authenticator secret (base32), the same wherever it is asked for. */
export function totpSecret(n: number): string {
  return new Secret({ buffer: new Uint8Array(createHash("sha256").update(`tessera-bench-totp:${n}`).digest().subarray(0, 20)).buffer }).base32;
}

export interface Population {
  /** Where the store is: `sqlite:<file>` or a PostgreSQL URL (`?schema=` as the server takes it). */
  databaseUrl: string;
  /** The data dir whose master key seals the TOTP secrets. */
  dataDir: string;
  tenant?: string;
  /** Identities `from` … `from + count - 1`. */
  from?: number;
  count: number;
  /** How many of them (the first ones) get an authenticator app too. */
  totp?: number;
}

const ACCOUNT_COLUMNS = ["id", "tenant_id", "kind", "identifier", "state", "locale", "email", "email_verified_at", "given_name", "family_name", "created_at", "updated_at"] as const;
const BATCH = 10_000;

/** Writes the identities; returns how long it took. The store must be migrated, the tenant exist. */
export async function addIdentities(population: Population): Promise<{ seconds: number }> {
  const started = performance.now();
  const tenantId = population.tenant ?? "national";
  const from = population.from ?? 0;
  const totp = Math.min(population.totp ?? 0, population.count);

  const store = openStore(population.databaseUrl);
  let phc: string;
  try {
    const tenant = await findTenant(store.repos, tenantId);
    if (!tenant) throw new Error(`no tenant ${tenantId}`);
    phc = await hashSecret(PASSWORD, tenant.policy.password.hashing);
  } finally {
    await store.close();
  }
  const secrets = createSecrets(loadMasterKey(process.env.TESSERA_MASTER_KEY || undefined, population.dataDir).key);
  const now = Date.now();

  const batches = function* () {
    for (let start = from; start < from + population.count; start += BATCH) {
      const accounts: unknown[][] = [];
      const passwords: unknown[][] = [];
      const factors: unknown[][] = [];
      for (let n = start; n < Math.min(start + BATCH, from + population.count); n++) {
        const id = newId();
        const email = identifierOf(n);
        accounts.push([id, tenantId, "identity", email, "active", "it", email, now, "Persona", `Bench ${n}`, now, now]);
        passwords.push([id, phc, now, 0]);
        if (n < from + totp) {
          const factorId = newId();
          factors.push([factorId, id, secrets.seal(totpSecret(n), `totp:${factorId}`), now, now]);
        }
      }
      yield { accounts, passwords, factors };
    }
  };

  if (population.databaseUrl.startsWith("sqlite:")) {
    const db = new Database(population.databaseUrl.slice("sqlite:".length));
    try {
      db.pragma("busy_timeout = 30000");
      const account = db.prepare(`insert into accounts (${ACCOUNT_COLUMNS.join(", ")}) values (${ACCOUNT_COLUMNS.map(() => "?").join(", ")})`);
      const password = db.prepare("insert into passwords (account_id, hash, set_at, must_change) values (?, ?, ?, ?)");
      const factor = db.prepare("insert into totp_factors (id, account_id, secret, created_at, confirmed_at) values (?, ?, ?, ?, ?)");
      const write = db.transaction((batch: { accounts: unknown[][]; passwords: unknown[][]; factors: unknown[][] }) => {
        for (const row of batch.accounts) account.run(row);
        for (const row of batch.passwords) password.run(row);
        for (const row of batch.factors) factor.run(row);
      });
      for (const batch of batches()) write(batch);
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client(postgresConnection(population.databaseUrl));
    await client.connect();
    try {
      // One statement per table and batch: each column as one array parameter, unnested into rows.
      const insert = async (table: string, columns: readonly string[], types: readonly string[], rows: unknown[][]) => {
        if (rows.length === 0) return;
        const arrays = columns.map((_, i) => rows.map((row) => row[i]));
        await client.query(`insert into ${table} (${columns.join(", ")}) select * from unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(", ")})`, arrays);
      };
      for (const batch of batches()) {
        await client.query("begin");
        await insert("accounts", ACCOUNT_COLUMNS, ["text", "text", "text", "text", "text", "text", "text", "bigint", "text", "text", "bigint", "bigint"], batch.accounts);
        await insert("passwords", ["account_id", "hash", "set_at", "must_change"], ["text", "text", "bigint", "integer"], batch.passwords);
        await insert("totp_factors", ["id", "account_id", "secret", "created_at", "confirmed_at"], ["text", "text", "text", "bigint", "bigint"], batch.factors);
        await client.query("commit");
      }
      await client.query("analyze accounts; analyze passwords; analyze totp_factors");
    } catch (error) {
      await client.query("rollback").catch(() => {});
      throw error;
    } finally {
      await client.end();
    }
  }
  return { seconds: (performance.now() - started) / 1000 };
}

/**
 * `count` live level-1 sessions, one for each of the tenant's first identities (again from the
 * first when there are fewer), written as the server writes them (the token's SHA-256 only);
 * returns the tokens, for the `tessera_session` cookie.
 */
export async function addSessions(options: { databaseUrl: string; tenant?: string; count: number }): Promise<string[]> {
  const store = openStore(options.databaseUrl);
  try {
    const tenantId = options.tenant ?? "national";
    const tenant = (await findTenant(store.repos, tenantId))!;
    const accounts = await store.db.selectFrom("accounts").select("id").where("tenant_id", "=", tenantId).orderBy("id").limit(options.count).execute();
    if (accounts.length === 0) throw new Error("no identities to open sessions for");
    const now = Date.now();
    const sessions = Array.from({ length: options.count }, (_, i) =>
      newSessionRow(tenant, accounts[i % accounts.length]!.id, { level: 1, amr: ["password"], ip: "127.0.0.1", userAgent: "tessera-bench" }, now),
    );
    const rows = sessions.map((s) => s.row);
    for (let i = 0; i < rows.length; i += 1000) await store.db.insertInto("sessions").values(rows.slice(i, i + 1000)).execute();
    return sessions.map((s) => s.token);
  } finally {
    await store.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const { values } = parseArgs({
    options: {
      count: { type: "string", default: "100000" },
      from: { type: "string", default: "0" },
      totp: { type: "string", default: "0" },
      tenant: { type: "string", default: "national" },
      "data-dir": { type: "string", default: process.env.TESSERA_DATA_DIR ?? "./data" },
      "database-url": { type: "string", default: process.env.TESSERA_DATABASE_URL },
    },
  });
  const dataDir = path.resolve(values["data-dir"]);
  const databaseUrl = values["database-url"] ?? `sqlite:${path.join(dataDir, "tessera.db")}`;
  const count = Number(values.count);
  const { seconds } = await addIdentities({ databaseUrl, dataDir, tenant: values.tenant, from: Number(values.from), count, totp: Number(values.totp) });
  console.log(JSON.stringify({ measure: "identities.bulk_insert", count, seconds: Number(seconds.toFixed(1)), perSecond: Math.round(count / seconds) }));
}
