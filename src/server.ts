import type { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { ensureDecoyHashes } from "./identity/password/decoy.ts";
import { hashingPool } from "./identity/password/hashing-pool.ts";
import { sendPasswordExpiryReminders } from "./identity/password/expiry-reminders.ts";
import { processExpiringEnrolments } from "./flows/enrolment/expiry.ts";
import { purgeExpired } from "./jobs/maintenance.ts";
import { type Scheduler, startScheduler } from "./jobs/scheduler.ts";
import { processInactiveIdentities } from "./identity/lifecycle.ts";
import { httpSmsTransport, SmsGatewayConfig, smtpTransport, type Transports } from "./messaging/transports.ts";
import { startOutboxWorker } from "./messaging/worker.ts";
import { type Clock, systemClock } from "./shared/clock.ts";
import { resolveBaseUrl, type Settings, SettingsError } from "./shared/config/settings.ts";
import { loadMasterKey, type MasterKey, MasterKeyError, masterKeyCheck } from "./shared/crypto/master-key.ts";
import { createSecrets } from "./shared/crypto/secrets.ts";
import { databaseAttemptStore, fallingBackAttemptStore, redisAttemptStore } from "./store/attempts.ts";
import { openStore, type Store } from "./store/db.ts";
import { connectRedis, type FallbackEvent, type RedisOrFallback, redisOrFallback } from "./store/redis.ts";
import { wireDemoBroker } from "./demo/broker.ts";
import { seedDemo } from "./demo/seed.ts";
import { ensureDemoCertificates, seedDemoOrganizations } from "./demo/professionals.ts";
import { listTenants } from "./tenants/service.ts";
import { createPkiRuntime, type PkiDeps } from "./pki/deps.ts";
import { ensureDemoPki, maintainPki } from "./pki/maintenance.ts";
import { buildApp } from "./web/app.ts";
import { startMtlsServer } from "./web/mtls.ts";
import type { PublicUrl } from "./web/services.ts";

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  /** The services' dependencies as this server runs them (for tools and tests). */
  deps: PkiDeps;
  baseUrl: string;
  devMode: boolean;
  /** Home page URL of every tenant, by id. */
  tenantUrls: { id: string; displayName: string; url: string }[];
  /** The periodic jobs (a test or an operator's tool may run one now with `tick`). */
  scheduler: Scheduler;
  close(): Promise<void>;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * The process's composition root: master key, store and migrations, demo tenants when asked,
 * message transports and the outbox worker, periodic jobs, then the HTTP server. A failure before
 * listening closes what was opened.
 */
export async function startServer(
  settings: Settings,
  options: { demo: boolean; logStream?: Writable; outboxIntervalMs?: number; /** Tests move time with their own clock. */ clock?: Clock },
): Promise<RunningServer> {
  const masterKey = loadMasterKey(settings.masterKey, settings.dataDir);
  hashingPool.limitWait(settings.overloadHashingWait);
  const secrets = createSecrets(masterKey.key);
  const devMode = settings.devMode ?? options.demo;
  const store = openStore(settings.databaseUrl, { poolSize: settings.databasePoolSize });
  const clock = options.clock ?? systemClock;
  const stops: (() => Promise<unknown> | void)[] = [() => store.close()];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    await store.migrate();
    await checkMasterKey(store, masterKey);
    const pki = createPkiRuntime(secrets, clock);
    const deps: PkiDeps = { repos: store.repos, clock, secrets, pki };
    if (options.demo) await seedDemo(store, deps);
    await ensureDecoyHashes(store.repos, await listTenants(store.repos));

    let redis: Redis | undefined;
    let shared: RedisOrFallback | undefined;
    // Heard before the application (and its logger) exists, told once it does.
    const redisEvents: (Error | FallbackEvent)[] = [];
    let tell = (event: Error | FallbackEvent) => void redisEvents.push(event);
    if (settings.redisUrl) {
      redis = connectRedis(settings.redisUrl, (err) => tell(err));
      shared = redisOrFallback(redis, (event) => tell(event));
      const client = redis;
      stops.push(() => client.quit());
    }
    const publicUrl: PublicUrl = { current: resolveBaseUrl(settings, settings.port) };
    const appOptions: Parameters<typeof buildApp>[0] = {
      store,
      clock,
      secrets,
      pki,
      attempts: redis && shared ? fallingBackAttemptStore(redisAttemptStore(redis), databaseAttemptStore(store.repos), shared) : databaseAttemptStore(store.repos),
      devMode,
      oidcPrivateNetwork: settings.oidcPrivateNetwork ?? devMode,
      adminToken: settings.adminToken,
      publicUrl,
      logLevel: settings.logLevel,
      ...(options.logStream ? { logStream: options.logStream } : {}),
      trustProxy: settings.trustProxy,
      overload: { maxEventLoopDelayMs: settings.overloadEventLoopDelay },
      rateLimit: { max: settings.rateLimitMax, windowSeconds: settings.rateLimitWindow, shared: redis && shared ? { redis, run: shared } : undefined },
    };
    const app = await buildApp(appOptions);
    stops.push(() => app.close());
    tell = (event) => {
      if (event instanceof Error) app.log.warn({ err: event.message }, "redis unavailable");
      else if (event.kind === "fell_back") app.log.warn({ err: event.error }, "redis unavailable: rate limits counted by each node, sign-in attempts in the database, until it is back");
      else app.log.warn("redis is back: rate limits and sign-in attempts counted in redis again");
    };
    for (const event of redisEvents.splice(0)) tell(event);

    const transports = buildTransports(settings);
    stops.push(() => transports.email?.close());
    const worker = startOutboxWorker(deps, transports, {
      devMode,
      maxBackoffMs: settings.outboxMaxRetryDelay * 1000,
      ...(options.outboxIntervalMs ? { intervalMs: options.outboxIntervalMs } : {}),
      onError: (err) => app.log.error({ err }, "outbox delivery round failed"),
    });
    stops.push(() => worker.stop());
    const scheduler = startScheduler(
      [
        {
          name: "password-expiry-reminders",
          everyMs: 60 * MINUTE,
          run: async () => {
            for (const tenant of await listTenants(store.repos)) await sendPasswordExpiryReminders(deps, tenant);
          },
        },
        { name: "purge-expired", everyMs: 15 * MINUTE, run: async () => purgeExpired(store.repos, clock, await listTenants(store.repos)) },
        {
          name: "enrolment-expiry",
          everyMs: 60 * MINUTE,
          run: async () => processExpiringEnrolments(deps, await listTenants(store.repos), (t) => `${publicUrl.current}/t/${t.id}`),
        },
        // CRLs reissued when due, OCSP responder and TSA certificates renewed before they end.
        { name: "pki", everyMs: 15 * MINUTE, run: async () => maintainPki(deps, await listTenants(store.repos), publicUrl.current) },
        // Warnings and revocations for unused identities: once a day, whichever node gets there first.
        { name: "inactivity", everyMs: 15 * MINUTE, oncePerMs: DAY, run: async () => processInactiveIdentities(deps, await listTenants(store.repos)) },
      ],
      { repos: store.repos, clock, onError: (job, err) => app.log.error({ err, job }, "scheduled job failed") },
    );
    stops.push(() => scheduler.stop());

    await app.listen({ port: settings.port, host: settings.host });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : settings.port;
    publicUrl.current = resolveBaseUrl(settings, port);
    if (settings.mtlsPort !== undefined) {
      if (!devMode && !(settings.mtlsCert && settings.mtlsKey)) throw new SettingsError("mtlsCert and mtlsKey: the mutual-TLS endpoint needs a certificate and its key outside development mode");
      const mtls = await startMtlsServer({ port: settings.mtlsPort, host: settings.host, publicUrl: publicUrl.current, certFile: settings.mtlsCert, keyFile: settings.mtlsKey, services: appOptions, log: app.log });
      stops.push(() => mtls.close());
      // The routes read it from the same options object: the panel's "Continue with the CNS card" leads there.
      appOptions.mtlsUrl = mtls.url;
    }
    if (options.demo) {
      const tenantUrl = (tenant: string) => `${publicUrl.current}/t/${tenant}`;
      await wireDemoBroker(deps, publicUrl.current);
      await ensureDemoPki(deps, await listTenants(store.repos), publicUrl.current);
      await seedDemoOrganizations(store, deps, tenantUrl);
      await ensureDemoCertificates(store, deps, tenantUrl);
    }
    const tenantUrls = (await listTenants(store.repos)).map((t) => ({
      id: t.id,
      displayName: t.displayName,
      url: `${publicUrl.current}/t/${t.id}/`,
    }));
    return { app, store, deps, baseUrl: publicUrl.current, devMode, tenantUrls, scheduler, close: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function buildTransports(settings: Settings): Transports {
  return {
    ...(settings.smtpUrl ? { email: smtpTransport({ url: settings.smtpUrl, from: settings.mailFrom }) } : {}),
    ...(settings.smsGatewayUrl
      ? {
          sms: httpSmsTransport(
            SmsGatewayConfig.parse({
              url: settings.smsGatewayUrl,
              method: settings.smsGatewayMethod,
              format: settings.smsGatewayFormat,
              headers: settings.smsGatewayHeaders,
              body: settings.smsGatewayBody,
              from: settings.smsSender,
            }),
          ),
        }
      : {}),
  };
}

/**
 * Every node of one database must encrypt with the same master key. The first node to start
 * records a check value; a node with another key stops before it can write unreadable secrets.
 */
export async function checkMasterKey(store: Store, masterKey: MasterKey): Promise<void> {
  const mine = masterKeyCheck(masterKey.key);
  const recorded = await store.repos.instance.getOrSet("master_key_check", mine);
  if (recorded !== mine) {
    const where = masterKey.source === "environment" ? "TESSERA_MASTER_KEY" : `the key file ${masterKey.file}`;
    throw new MasterKeyError(
      `the master key from ${where} is not the one this database was set up with; give every node the same TESSERA_MASTER_KEY`,
    );
  }
}
