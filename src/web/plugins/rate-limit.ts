import { createRequire } from "node:module";
import rateLimit, { type FastifyRateLimitOptions, type FastifyRateLimitStore } from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { Redis } from "ioredis";
import { TesseraError } from "../../shared/errors.ts";
import type { RedisOrFallback } from "../../store/redis.ts";

/** Probes from load balancers and scrapers come often and from few addresses. */
const UNLIMITED = new Set(["/healthz", "/readyz", "/metrics"]);

export interface RateLimitOptions {
  max: number;
  windowSeconds: number;
  /**
   * Counters shared by every node in Redis, each node's own while Redis is down (`run` decides);
   * in process memory when absent.
   */
  shared?: { redis: Redis; run: RedisOrFallback } | undefined;
}

type CounterStore = FastifyRateLimitStore;
type ChildOptions = Parameters<CounterStore["child"]>[0];
interface Counted {
  current: number;
  ttl: number;
}
interface StoreParams {
  continueExceeding?: boolean;
  exponentialBackoff?: boolean;
}
// The plugin's stores are not exported as modules of their own, but are its files.
const require = createRequire(import.meta.url);
const RedisStore = require("@fastify/rate-limit/store/RedisStore.js") as new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, key: string) => CounterStore;
const LocalStore = require("@fastify/rate-limit/store/LocalStore.js") as new (continueExceeding: boolean, exponentialBackoff: boolean) => CounterStore;

/**
 * Redis's counters while it answers, this node's while it does not: through an outage each node
 * still limits each address (to `max` per node, not per cluster) instead of letting floods through.
 */
function sharedOrLocalStore(redis: Redis, run: RedisOrFallback) {
  const counted = (store: CounterStore, key: string, timeWindow: number, max: number) => () =>
    new Promise<Counted>((resolve, reject) => store.incr(key, (err, result) => (err || !result ? reject(err ?? new Error("no count")) : resolve(result)), timeWindow, max));
  class SharedOrLocal implements CounterStore {
    constructor(
      private readonly shared: CounterStore,
      private readonly local: CounterStore,
    ) {}
    incr(key: string, done: (err: Error | null, counted?: Counted) => void, timeWindow: number, max: number) {
      run(counted(this.shared, key, timeWindow, max), counted(this.local, key, timeWindow, max)).then(
        (result) => done(null, result),
        (err: Error) => done(err),
      );
    }
    child(routeOptions: ChildOptions): CounterStore {
      return new SharedOrLocal(this.shared.child(routeOptions), this.local.child(routeOptions));
    }
  }
  // The plugin constructs its store itself, from its own parameters.
  return class extends SharedOrLocal {
    constructor(params: FastifyRateLimitOptions) {
      // The plugin hands its resolved parameters, these two among them (its types say less).
      const { continueExceeding = false, exponentialBackoff = false } = params as StoreParams;
      super(new RedisStore(continueExceeding, exponentialBackoff, redis, "tessera:rate:"), new LocalStore(continueExceeding, exponentialBackoff));
    }
  };
}

/**
 * A per-IP ceiling on all requests, against floods. Brute-force protection of credentials is a
 * separate, per-account and per-IP mechanism on failures only.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, options: RateLimitOptions) => {
    const { shared } = options;
    await app.register(rateLimit, {
      // Applied below as an instance-wide hook, so that it runs before any route's own hooks
      // (a tenant lookup is a database query a flood should not reach).
      global: false,
      max: options.max,
      timeWindow: options.windowSeconds * 1000,
      ...(shared ? { store: sharedOrLocalStore(shared.redis, shared.run) } : {}),
      allowList: (request) => UNLIMITED.has(request.routeOptions.url ?? ""),
      errorResponseBuilder: (_request, context) =>
        new TesseraError("http.rate_limited", `rate limit of ${context.max} requests exceeded`, {
          status: 429,
          params: { seconds: Math.max(1, Math.ceil(context.ttl / 1000)) },
        }),
    });
    app.addHook("onRequest", app.rateLimit());
  },
  { name: "tessera-rate-limit", dependencies: ["tessera-i18n"] },
);
