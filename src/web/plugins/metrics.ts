import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics at GET /metrics: process and Node.js metrics, and requests counted and
 * timed per route template (`/t/:tenant/`, never the raw URL, which would explode cardinality).
 * Each app has its own registry, so several apps in one process (tests) do not collide.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance) => {
    const register = new Registry();
    collectDefaultMetrics({ register });
    const labelNames = ["method", "route", "status_code"] as const;
    const requests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests answered, by route and status.",
      labelNames,
      registers: [register],
    });
    const duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "Time from request received to response sent, by route and status.",
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [register],
    });

    app.addHook("onResponse", async (request, reply) => {
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? "unmatched",
        status_code: String(reply.statusCode),
      };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
    });

    app.get("/metrics", async (_request, reply) => {
      reply.type(register.contentType);
      return register.metrics();
    });
  },
  { name: "tessera-metrics" },
);
