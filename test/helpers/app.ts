import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { ensureDecoyHashes } from "../../src/identity/password/decoy.ts";
import { ensureTenants, listTenants } from "../../src/tenants/service.ts";
import { demoTenants } from "../../src/tenants/demo.ts";
import { createSecrets, type Secrets } from "../../src/shared/crypto/secrets.ts";
import { openStore } from "../../src/store/db.ts";
import { randomBytes } from "node:crypto";
import { databaseAttemptStore } from "../../src/store/attempts.ts";
import type { Store } from "../../src/store/db.ts";
import { createPkiRuntime, type PkiDeps } from "../../src/pki/deps.ts";
import { type AppOptions, buildApp } from "../../src/web/app.ts";
import { withCheapHashing } from "./identity.ts";
import { fakeClock, freshStore } from "./stores.ts";

export interface TestApp {
  app: FastifyInstance;
  store: Store;
  deps: PkiDeps;
  clock: ReturnType<typeof fakeClock>;
  /** What the routes were given (a test may set what the server sets after listening: `mtlsUrl`). */
  services: AppOptions;
  /** Every log line the app wrote. */
  logs: string[];
}

/**
 * The real app on a fresh in-memory store with the demo tenants, logs captured. With `node`, a
 * second app on the same database (another node): its own store and pool, the same secrets.
 */
export async function testApp(
  { clockStart, ...overrides }: Partial<AppOptions> & { /** Where the fake clock starts (tools that check validity against the real time need now). */ clockStart?: number } = {},
  node?: { databaseUrl: string; secrets: Secrets; clock?: ReturnType<typeof fakeClock> },
): Promise<TestApp> {
  const store = overrides.store ?? (node ? openStore(node.databaseUrl) : await freshStore("sqlite"));
  await store.migrate();
  await ensureTenants(store, fakeClock(), demoTenants.map(withCheapHashing), { actor: "test" });
  await ensureDecoyHashes(store.repos, await listTenants(store.repos));
  const logs: string[] = [];
  const clock = node?.clock ?? fakeClock(clockStart);
  const secrets = node?.secrets ?? createSecrets(randomBytes(32));
  const pki = overrides.pki ?? createPkiRuntime(secrets, clock);
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString());
      callback();
    },
  });
  const services: AppOptions = {
    store,
    clock,
    secrets,
    pki,
    attempts: databaseAttemptStore(store.repos),
    devMode: false,
    publicUrl: { current: "http://localhost" },
    logLevel: "info",
    logStream,
    trustProxy: 0,
    rateLimit: { max: 1000, windowSeconds: 60 },
    ...overrides,
  };
  const app = await buildApp(services);
  return { app, services, store, logs, clock, deps: { repos: store.repos, clock, secrets, pki } };
}

/**
 * The app listening on loopback, its public URL the one it listens on (certificates and links
 * point there), the fake clock at the real time (tools outside check validity against it).
 */
export async function listeningApp(overrides: Partial<AppOptions> = {}): Promise<{ t: TestApp; base: string }> {
  const publicUrl = { current: "http://localhost" };
  const t = await testApp({ ...overrides, publicUrl, clockStart: Date.now() });
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  const address = t.app.server.address();
  publicUrl.current = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return { t, base: publicUrl.current };
}
