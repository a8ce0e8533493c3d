/**
 * What every benchmark needs of a Tessera server: a store to run on (a fresh SQLite file, or a
 * fresh schema of the PostgreSQL server), the server itself started as `npm start` starts it (a
 * child process with the demo tenants), its command line, and its memory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";

export const ROOT = path.resolve(import.meta.dirname, "..");

export type Engine = "sqlite" | "postgres";

/** The bench server's admin API token (issuance is measured through it). */
export const ADMIN_TOKEN = "bench-admin-token-bench-admin-token-0001";

/** Where the PostgreSQL benchmarks run: a schema of their own in this database, dropped after. */
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface Target {
  engine: Engine;
  dataDir: string;
  databaseUrl: string;
  dispose(): Promise<void>;
}

export async function newTarget(engine: Engine): Promise<Target> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `tessera-bench-${engine}-`));
  if (engine === "sqlite") {
    return { engine, dataDir, databaseUrl: `sqlite:${path.join(dataDir, "tessera.db")}`, dispose: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const schema = `bench_${randomBytes(6).toString("hex")}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create schema ${schema}`);
  return {
    engine,
    dataDir,
    databaseUrl: withSchema(POSTGRES_URL, schema),
    async dispose() {
      await admin(`drop schema ${schema} cascade`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const storeArgs = (target: Target) => ["--data-dir", target.dataDir, ...(target.engine === "postgres" ? ["--database-url", target.databaseUrl] : [])];

export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve(m);
    });
    child.stderr!.on("data", (d: Buffer) => process.stderr.write(d));
    child.on("exit", (code) => reject(new Error(`exited with ${code} before printing ${pattern}:\n${out}`)));
  });
}

export interface Server {
  baseUrl: string;
  child: ChildProcess;
  /** Resident set size of the server process now, in bytes (Linux: /proc). */
  rss(): number;
  stop(): Promise<void>;
}

/** `extra`: more command-line settings for `tessera start` (e.g. `--trust-proxy 1`). */
export async function tessera(target: Target, extra: string[] = []): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops.
      ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      path.join(ROOT, "bin/tessera.js"),
      "start",
      "--demo",
      "--port",
      "0",
      "--host",
      "localhost",
      ...storeArgs(target),
      "--log-level",
      "warn",
      "--rate-limit-max",
      "100000000",
      ...extra,
    ],
    { env: { ...process.env, TESSERA_MASTER_KEY: "", TESSERA_ADMIN_TOKEN: ADMIN_TOKEN }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const [, baseUrl] = await waitForLine(child, /Tessera listening on (\S+)/);
  return {
    baseUrl: baseUrl!,
    child,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) * 1024,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export async function cli(target: Target, argv: string[]): Promise<string> {
  const child = spawn(process.execPath, [path.join(ROOT, "bin/tessera.js"), ...argv, ...storeArgs(target)], {
    env: { ...process.env, TESSERA_MASTER_KEY: "" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`tessera ${argv.join(" ")} failed`);
  return out;
}

export async function registerClient(target: Target, argv: string[]): Promise<{ id: string; secret: string }> {
  const out = JSON.parse(await cli(target, ["client", "create", "--tenant", "national", "--json", ...argv])) as { client_id: string; client_secret: string };
  return { id: out.client_id, secret: out.client_secret };
}

/** The URL with `schema` set (it may already carry parameters, such as a Unix socket's `host`). */
function withSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("schema", schema);
  return parsed.toString();
}
