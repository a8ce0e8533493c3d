import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { Redis } from "ioredis";
import { TesseraError } from "../../shared/errors.ts";

/** Probes from load balancers and scrapers come often and from few addresses. */
const UNLIMITED = new Set(["/healthz", "/readyz", "/metrics"]);

export interface RateLimitOptions {
  max: number;
  windowSeconds: number;
  /** Shared counters for several nodes; in process memory when absent. */
  redis?: Redis | undefined;
}

/**
 * A per-IP ceiling on all requests, against floods. Brute-force protection of credentials is a
 * separate, per-account and per-IP mechanism on failures only.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, options: RateLimitOptions) => {
    const { redis } = options;
    await app.register(rateLimit, {
      // Applied below as an instance-wide hook, so that it runs before any route's own hooks
      // (a tenant lookup is a database query a flood should not reach).
      global: false,
      max: options.max,
      timeWindow: options.windowSeconds * 1000,
      ...(redis ? { redis, nameSpace: "tessera:rate:" } : {}),
      // A Redis outage must not take every page down with it.
      skipOnError: true,
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
