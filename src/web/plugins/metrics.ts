import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { hashingPool } from "../../identity/password/hashing-pool.ts";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics at GET /metrics: process and Node.js metrics, and requests counted and
 * timed per route template (`/t/:tenant/`, never the raw URL, which would explode cardinality).
 * Each app has its own registry, so several apps in one process (tests) do not collide. Two
 * totals tell what a request costs (the benchmarks divide them by the requests made): the SQL
 * statements run, and the time the main thread was busy (the event loop not idle: JavaScript and
 * synchronous native work, such as SQLite's, but not the worker threads' hashing and signing).
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, options: { statements?: () => number }) => {
    const register = new Registry();
    collectDefaultMetrics({ register });
    const { statements } = options;
    if (statements) {
      new Gauge({
        name: "tessera_db_statements_total",
        help: "SQL statements run since the process started.",
        registers: [register],
        collect() {
          this.set(statements());
        },
      });
    }
    // The main thread's own CPU time (Linux: its task's utime + stime, in clock ticks of 10 ms):
    // unlike the busy time, not stretched when other threads and processes hold the cores.
    const cpu = mainThreadCpuSeconds();
    if (cpu !== undefined) {
      new Gauge({
        name: "tessera_main_thread_cpu_seconds_total",
        help: "CPU time of the main thread since the process started (Linux).",
        registers: [register],
        collect() {
          this.set(mainThreadCpuSeconds() ?? 0);
        },
      });
    }
    new Gauge({
      name: "tessera_main_thread_busy_seconds_total",
      help: "Time the main thread's event loop was busy since the process started.",
      registers: [register],
      collect() {
        this.set(performance.eventLoopUtilization().active / 1000);
      },
    });
    new Gauge({
      name: "tessera_requests_shed_total",
      help: "Requests refused (503) because the node was overloaded: its event loop late, or the password-hashing queue too long.",
      labelNames: ["reason"],
      registers: [register],
      collect() {
        this.set({ reason: "event_loop" }, app.shed?.count ?? 0);
        this.set({ reason: "password_hashing" }, hashingPool.stats().refused);
      },
    });
    // The password-hashing lanes: busy seconds over lanes × elapsed seconds is how saturated they were.
    new Gauge({
      name: "tessera_password_hashing_busy_seconds_total",
      help: "Time the password-hashing lanes spent computing argon2id, summed over lanes.",
      registers: [register],
      collect() {
        this.set(hashingPool.stats().busySeconds);
      },
    });
    new Gauge({
      name: "tessera_password_hashing_lanes",
      help: "Worker threads that compute argon2id.",
      registers: [register],
      collect() {
        this.set(hashingPool.stats().lanes);
      },
    });
    new Gauge({
      name: "tessera_password_hashing_queued",
      help: "argon2id computations waiting for a lane.",
      registers: [register],
      collect() {
        this.set(hashingPool.stats().queued);
      },
    });
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

/** The main thread's CPU seconds from /proc (fields 14 and 15 of its task's stat), or undefined elsewhere. */
function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux the server runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;
