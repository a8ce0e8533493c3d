import { monitorEventLoopDelay } from "node:perf_hooks";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { TesseraError } from "../../shared/errors.ts";

/** Always answered: a load balancer must tell an overloaded node from a dead one. */
const ALWAYS = new Set(["/healthz", "/readyz", "/metrics"]);

/** How often the event loop's lateness is read; each reading decides for the next interval. */
const SAMPLE_MS = 250;
/** The delay histogram's own resolution, which every sample includes. */
const RESOLUTION_MS = 10;

export interface OverloadOptions {
  /** Milliseconds of average event-loop delay over a sample above which new requests are refused; 0: never. */
  maxEventLoopDelayMs: number;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Requests this node refused as overloaded (`/metrics`: tessera_requests_shed_total). */
    shed: { count: number };
  }
}

/**
 * Load shedding: while the event loop runs late (more requests arriving than the node can
 * serve), new requests are answered 503 with Retry-After at once, before any database or
 * cryptographic work, instead of queueing until they time out. Those already admitted finish.
 * Password hashing has its own limit (identity/password/hashing-pool.ts: limitWait), as its
 * queue fills long before the event loop is busy.
 */
export const overloadPlugin = fp(
  async (app: FastifyInstance, options: OverloadOptions) => {
    app.decorate("shed", { count: 0 });
    if (options.maxEventLoopDelayMs <= 0) return;
    const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    histogram.enable();
    let late = false;
    const timer = setInterval(() => {
      const delayMs = Math.max(0, histogram.mean / 1e6 - RESOLUTION_MS);
      histogram.reset();
      if (delayMs > options.maxEventLoopDelayMs && !late) app.log.warn({ delayMs: Math.round(delayMs) }, "overloaded: refusing new requests (503) until the event loop catches up");
      late = delayMs > options.maxEventLoopDelayMs;
    }, SAMPLE_MS);
    timer.unref();
    app.addHook("onClose", async () => {
      clearInterval(timer);
      histogram.disable();
    });
    app.addHook("onRequest", async (request) => {
      if (!late || ALWAYS.has(request.url.split("?", 1)[0]!)) return;
      app.shed.count++;
      throw new TesseraError("service.overloaded", "event loop overloaded", { status: 503, params: { seconds: 1 } });
    });
  },
  { name: "tessera-overload", dependencies: ["tessera-i18n"] },
);
