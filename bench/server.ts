/**
 * What every benchmark needs of a Tessera server: started as `npm start` runs it (a child
 * process on SQLite, the demo tenants), its command line, and citizens to sign in.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createAccount } from "../src/identity/accounts.ts";
import { setPassword } from "../src/identity/password/service.ts";
import { systemClock } from "../src/shared/clock.ts";
import { loadMasterKey } from "../src/shared/crypto/master-key.ts";
import { createSecrets } from "../src/shared/crypto/secrets.ts";
import { openStore } from "../src/store/db.ts";
import { findTenant } from "../src/tenants/service.ts";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const PASSWORD = "Quercia-Verde-2026!";

export interface User {
  identifier: string;
  password: string;
}

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

export async function tessera(dataDir: string): Promise<{ baseUrl: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops.
    [...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), path.join(ROOT, "bin/tessera.js"), "start", "--demo", "--port", "0", "--host", "localhost", "--data-dir", dataDir, "--log-level", "warn", "--rate-limit-max", "100000000"],
    { env: { ...process.env, TESSERA_MASTER_KEY: "" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const [, baseUrl] = await waitForLine(child, /Tessera listening on (\S+)/);
  return { baseUrl: baseUrl!, child };
}

export async function cli(dataDir: string, argv: string[]): Promise<string> {
  const child = spawn(process.execPath, [path.join(ROOT, "bin/tessera.js"), ...argv, "--data-dir", dataDir], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`tessera ${argv.join(" ")} failed`);
  return out;
}

export async function registerClient(dataDir: string, argv: string[]): Promise<{ id: string; secret: string }> {
  const out = JSON.parse(await cli(dataDir, ["client", "create", "--tenant", "national", "--json", ...argv])) as { client_id: string; client_secret: string };
  return { id: out.client_id, secret: out.client_secret };
}

/**
 * One citizen per simulated browser: brute-force protection books every attempt as a failure until
 * it succeeds, so one account signing in from many browsers at once would look like an attack.
 */
export async function citizens(dataDir: string, count: number): Promise<User[]> {
  const store = openStore(`sqlite:${path.join(dataDir, "tessera.db")}`);
  try {
    const deps = { repos: store.repos, clock: systemClock, secrets: createSecrets(loadMasterKey(undefined, dataDir).key) };
    const tenant = (await findTenant(store.repos, "national"))!;
    const users: User[] = [];
    for (let i = 0; i < count; i++) {
      const identifier = `cittadino${i}@bench.example.it`;
      const account = await createAccount(deps, tenant, { state: "active", identifier, email: identifier, emailVerified: true, givenName: "Bench", familyName: `User ${i}` }, { actor: "bench" });
      await setPassword(deps, tenant, account, PASSWORD, { actor: "bench" });
      users.push({ identifier, password: PASSWORD });
    }
    return users;
  } finally {
    await store.close();
  }
}

