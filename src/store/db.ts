import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import path from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, type KyselyConfig, type KyselyPlugin, Migrator, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { type Dialect, ImmediateSqliteDialect } from "./dialect.ts";
import { migrations } from "./migrations/index.ts";
import { createRepos, type Repos } from "./repos/index.ts";
import type { Database } from "./schema.gen.ts";

export type { Dialect } from "./dialect.ts";

/**
 * The store: one Kysely instance over SQLite (embedded) or PostgreSQL (production), chosen by the
 * database URL, with the repositories bound to it. Everything outside `store/` reaches the
 * database through `repos`, or through `transaction()` when several writes must land together.
 */
export interface Store {
  readonly dialect: Dialect;
  /** Raw access for migrations, the schema generator and tests; application code uses repos. */
  readonly db: Kysely<Database>;
  readonly repos: Repos;
  /** Runs `work` in one transaction; repos passed to it write inside that transaction. */
  transaction<T>(work: (repos: Repos) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<void>;
  /** Applies pending migrations (safe to run on several nodes at once); returns their names. */
  migrate(): Promise<string[]>;
  /** Names of the migrations not yet applied to this database. */
  pendingMigrations(): Promise<string[]>;
  /** Statements run since the store was opened (the benchmarks report them per request). */
  statements(): number;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PostgreSQL connections in the pool (defaultPoolSize()). */
  poolSize?: number;
  /** Told the SQL of every statement run (never its parameters) and its time: for tracing and for tests. */
  onQuery?: (sql: string, milliseconds: number) => void;
}

export class StoreError extends Error {
  override readonly name = "StoreError";
}

export function openStore(url: string, options: StoreOptions = {}): Store {
  const log = options.onQuery ? queryLog(options.onQuery) : undefined;
  const counter = new StatementCounter();
  if (url.startsWith("sqlite:")) {
    const sqlite = openSqlite(url, log, counter);
    return wrap(sqlite.db, "sqlite", undefined, counter, () => sqlite.beforeClose());
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const schema = new URL(url).searchParams.get("schema") ?? "public";
    return wrap(openPostgres(url, options, log, counter), "postgres", schema, counter);
  }
  throw new StoreError(`unsupported database URL (expected sqlite: or postgres://): ${redactUrl(url)}`);
}

type QueryLog = KyselyConfig["log"];

/** Counts the statements run (each result passes through it once); nothing is changed. */
class StatementCounter implements KyselyPlugin {
  count = 0;
  transformQuery: KyselyPlugin["transformQuery"] = (args) => args.node;
  transformResult: KyselyPlugin["transformResult"] = (args) => {
    this.count++;
    return Promise.resolve(args.result);
  };
}

function queryLog(onQuery: NonNullable<StoreOptions["onQuery"]>): QueryLog {
  return (event) => {
    if (event.level === "query") onQuery(event.query.sql, event.queryDurationMillis);
  };
}

function openSqlite(url: string, log: QueryLog, counter: StatementCounter): { db: Kysely<Database>; beforeClose(): Promise<void> | undefined } {
  // sqlite:<path>, sqlite://<path> or sqlite::memory:
  const file = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
  const onDisk = file !== ":memory:";
  const isNew = onDisk && !existsSync(file);
  if (onDisk) mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const database = new SqliteDatabase(file);
  // The database holds password hashes and audit data; SQLite gives its -wal and -shm files the
  // same mode as the database file, so this covers them too.
  if (isNew) chmodSync(file, 0o600);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("foreign_keys = ON");
  database.pragma("busy_timeout = 5000");
  const checkpointer = onDisk ? startCheckpointer(database, file) : undefined;
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }), plugins: [counter], ...(log ? { log } : {}) });
  return { db, beforeClose: () => checkpointer?.stop() };
}

/** How often the checkpointer copies the write-ahead log into the database file. */
const CHECKPOINT_EVERY_MS = 1000;

/**
 * Checkpoints in a worker thread (sqlite-checkpointer.mjs) instead of in the commit that crosses
 * SQLite's threshold, which would hold the event loop while the database file is written and
 * synced. Should the worker fail, the connection checkpoints by itself again.
 */
function startCheckpointer(database: SqliteDatabase.Database, file: string): { stop(): Promise<void> } {
  const worker = new Worker(new URL("./sqlite-checkpointer.mjs", import.meta.url), { workerData: { file: path.resolve(file), intervalMs: CHECKPOINT_EVERY_MS } });
  worker.unref();
  database.pragma("wal_autocheckpoint = 0");
  let running = true;
  const fallBack = () => {
    if (!running) return;
    running = false;
    if (database.open) database.pragma("wal_autocheckpoint = 1000");
  };
  worker.on("error", fallBack);
  worker.on("exit", fallBack);
  // A checkpoint that fails (the file unreadable to it, say) would leave the log growing.
  worker.on("message", (message: { error?: string }) => {
    if (message.error === undefined) return;
    fallBack();
    void worker.terminate();
  });
  return {
    async stop() {
      if (!running) return;
      running = false;
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      // Waited for: the process must not end (unref'd, it would) before the last checkpoint.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}

/**
 * Kysely prepares every query it runs; the same few hundred statements come back all the time, and
 * preparing one costs more than running it. Statements are kept by their SQL (better-sqlite3 runs
 * each to completion before the next, so one prepared statement serves every caller).
 */
function withStatementCache(database: SqliteDatabase.Database) {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= 1000) statements.clear();
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * What `pg` needs to connect to a Tessera PostgreSQL URL: `?schema=NAME` is ours, not libpq's, so
 * it is taken out of the URL and set as the search_path of every connection.
 */
export function postgresConnection(url: string): { connectionString: string; options?: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema");
  parsed.searchParams.delete("schema");
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new StoreError(`invalid schema name in database URL: ${schema}`);
  }
  return { connectionString: parsed.toString(), ...(schema ? { options: `-c search_path=${schema}` } : {}) };
}

/**
 * A PostgreSQL connection that prepares each statement once: a statement with parameters is sent
 * named after its SQL, so that the server parses and plans it the first time this connection runs
 * it and only binds and executes it after (Kysely sends the same few hundred statements over and
 * over). A plan that a migration made by another node invalidated ("cached plan must not change
 * result type", after a column was added under a `select *`) fails once, and ends the connection:
 * the pool replaces it with a new one, which prepares everything anew. (Forgetting the plans on
 * the same connection would need a DEALLOCATE, which fails inside the transaction the error has
 * just aborted.)
 */
class PreparingClient extends pg.Client {
  override query(...args: unknown[]): never {
    const [text, values] = args;
    const named = args.length === 2 && typeof text === "string" && Array.isArray(values) && values.length > 0;
    const run = (super.query as (...a: unknown[]) => unknown).bind(this);
    if (!named) return run(...args) as never;
    const result = run({ name: statementName(text), text, values }) as Promise<unknown>;
    return result.catch((err: unknown) => {
      if ((err as { code?: string }).code === "0A000" && /cached plan/.test((err as Error).message)) this.end().catch(() => {});
      throw err;
    }) as never;
  }
}

/**
 * Connections a node opens by default: twice its cores plus one, the usual starting point for a
 * pool (each connection waits on the database most of the time; many more would only queue up in
 * PostgreSQL and cost it memory and context switches).
 */
export function defaultPoolSize(): number {
  return 2 * availableParallelism() + 1;
}

const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    if (statementNames.size >= 5000) statementNames.clear();
    name = `t${createHash("sha256").update(text).digest("base64url").slice(0, 22)}`;
    statementNames.set(text, name);
  }
  return name;
}

function openPostgres(url: string, { poolSize = defaultPoolSize() }: StoreOptions, log: QueryLog, counter: StatementCounter): Kysely<Database> {
  const pool = new pg.Pool({
    ...postgresConnection(url),
    Client: PreparingClient,
    max: poolSize,
    connectionTimeoutMillis: 5000,
    types: { getTypeParser: typeParser as typeof pg.types.getTypeParser },
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on("error", () => {});
  // Nor a checked-out one (the pool stops listening to a client while it is lent): its connection
  // ending between two statements of a transaction (a database dropped, a backend terminated)
  // would otherwise be an unhandled 'error' event. The next statement on it fails instead, and the
  // pool discards it when it comes back.
  pool.on("connect", (client) => client.on("error", () => {}));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [counter], ...(log ? { log } : {}) });
}

/** `schema`: where PostgreSQL keeps the migration bookkeeping (other schemas may have their own). */
const INT8_OID = 20;

/** bigint columns hold epoch milliseconds and counters, all far below 2^53: read them as numbers. */
function typeParser(oid: number, format?: "text" | "binary"): (value: string) => unknown {
  if (oid === INT8_OID) return Number;
  return pg.types.getTypeParser(oid, format ?? "text") as (value: string) => unknown;
}

function wrap(db: Kysely<Database>, dialect: Dialect, schema: string | undefined, counter: StatementCounter, beforeClose?: () => Promise<void> | undefined): Store {
  const repos = createRepos(db, dialect);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  return {
    dialect,
    db,
    repos,
    transaction: (work) => repos.atomically(work),
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreError(`database did not answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([sql`select 1`.execute(db), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async migrate() {
      const { error, results = [] } = await migrator.migrateToLatest();
      if (error) throw new StoreError("database migration failed", { cause: error });
      return results.filter((r) => r.status === "Success").map((r) => r.migrationName);
    },
    async pendingMigrations() {
      return (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
    },
    statements: () => counter.count,
    async close() {
      await beforeClose?.();
      await db.destroy();
    },
  };
}

/** A database URL fit for messages: the password replaced. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
}
