/**
 * Load generators and how a measure is reported. Single requests are driven by autocannon (a
 * lean HTTP/1.1 client: the generator shares the machine with the server, so it must cost little);
 * journeys of several requests (a whole sign-in) by simulated browsers, in a closed loop to find
 * the maximum and in an open loop (journeys started at a fixed rate, latency counted from when each
 * was due, so that a slow server cannot hide its queue) to measure latency at a given load.
 */
import autocannon from "autocannon";

export interface Load {
  /** Successful operations per second. */
  perSecond: number;
  /** Latency in milliseconds. */
  p50: number;
  p99: number;
  /** Operations that failed or got an unexpected status. */
  errors: number;
  count: number;
  /** What one operation cost the server, from its /metrics totals (`costed`). */
  cost?: Cost;
}

/**
 * Per operation: SQL statements run; the main thread's CPU milliseconds (Linux), and the
 * milliseconds its event loop was busy, which contention for the cores stretches beyond that.
 */
export interface Cost {
  statements: number;
  mainThreadCpuMs: number;
  mainThreadMs: number;
  /** Share of the measure's time the password-hashing lanes were computing (1: saturated); 0 when none hashed. */
  hashingLanesBusy: number;
}

/** The server's totals, from its Prometheus metrics (web/plugins/metrics.ts). */
async function serverTotals(baseUrl: string) {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return {
    at: performance.now(),
    statements: read("tessera_db_statements_total"),
    cpuSeconds: read("tessera_main_thread_cpu_seconds_total"),
    busySeconds: read("tessera_main_thread_busy_seconds_total"),
    hashingSeconds: read("tessera_password_hashing_busy_seconds_total"),
    hashingLanes: read("tessera_password_hashing_lanes"),
  };
}

/**
 * A measure with what each operation cost the server: the statements and main-thread time it
 * spent during the measure, divided by the operations made (the few of the two /metrics reads
 * included; other servers' work on the same machine not).
 */
export async function costed(baseUrl: string, run: () => Promise<Load>): Promise<Load> {
  const before = await serverTotals(baseUrl);
  const load = await run();
  const after = await serverTotals(baseUrl);
  const per = Math.max(1, load.count);
  return {
    ...load,
    cost: {
      statements: Number(((after.statements - before.statements) / per).toFixed(1)),
      mainThreadCpuMs: Number((((after.cpuSeconds - before.cpuSeconds) * 1000) / per).toFixed(2)),
      mainThreadMs: Number((((after.busySeconds - before.busySeconds) * 1000) / per).toFixed(2)),
      hashingLanesBusy: Number(((after.hashingSeconds - before.hashingSeconds) / (after.hashingLanes * ((after.at - before.at) / 1000))).toFixed(3)),
    },
  };
}

export interface Hammer {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Varies each request (path, headers, body) from one connection's context. */
  setupRequest?: autocannon.Request["setupRequest"];
  /** The statuses that count as success. */
  expect: number[];
  connections: number;
  /** How long to run; or `amount`: how many requests, the rate then taken over the time they took. */
  seconds?: number;
  amount?: number;
  /** Requests per second across all connections; unlimited when absent. */
  rate?: number;
}

export async function hammer(h: Hammer): Promise<Load> {
  const started = performance.now();
  const result = await autocannon({
    url: h.url,
    connections: h.connections,
    ...(h.amount ? { amount: h.amount } : { duration: h.seconds ?? 4 }),
    ...(h.rate ? { overallRate: Math.max(1, Math.round(h.rate)) } : {}),
    requests: [
      {
        method: h.method ?? "GET",
        ...(h.headers ? { headers: h.headers } : {}),
        ...(h.body !== undefined ? { body: h.body } : {}),
        ...(h.setupRequest ? { setupRequest: h.setupRequest } : {}),
      },
    ],
  });
  const statuses = result.statusCodeStats as unknown as Record<string, { count: number }>;
  const good = h.expect.reduce((sum, status) => sum + (statuses[status]?.count ?? 0), 0);
  const all = Object.values(statuses).reduce((sum, s) => sum + s.count, 0);
  const seconds = h.amount ? (performance.now() - started) / 1000 : (h.seconds ?? 4);
  return { perSecond: good / seconds, p50: result.latency.p50, p99: result.latency.p99, errors: all - good + result.errors + result.timeouts, count: good };
}

export interface Journeys {
  /** One whole journey; `lane` identifies the simulated browser running it. */
  run(lane: number): Promise<unknown>;
  seconds: number;
  /** Closed loop: this many browsers, each starting again when done. */
  concurrency?: number;
  /** Open loop: journeys started at this rate per second (at most 512 in flight). */
  rate?: number;
}

export async function journeys(j: Journeys): Promise<Load> {
  const latencies: number[] = [];
  let errors = 0;
  const fail = (error: unknown) => {
    if (errors++ === 0) console.error(error);
  };
  const started = performance.now();
  const end = started + j.seconds * 1000;
  if (j.rate) {
    const interval = 1000 / j.rate;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; ; i++) {
      const due = started + i * interval;
      if (due >= end) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (inFlight.size >= 512) await Promise.race(inFlight);
      const one: Promise<void> = j
        .run(i)
        .then(() => void latencies.push(performance.now() - due), fail)
        .finally(() => inFlight.delete(one));
      inFlight.add(one);
    }
    await Promise.all(inFlight);
  } else {
    await Promise.all(
      Array.from({ length: j.concurrency ?? 8 }, async (_, lane) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          try {
            await j.run(lane);
            latencies.push(performance.now() - t0);
          } catch (error) {
            fail(error);
          }
        }
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return { perSecond: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors, count: latencies.length };
}

// ---------------------------------------------------------------------------------------------
// Reporting

export interface Bound {
  /** The primitive that bounds the operation, e.g. "argon2id verify". */
  primitive: string;
  /** Its raw rate, measured in the same run. */
  rate: number;
  /** The target ratio DESIGN.md sets, if any. */
  target?: number;
}

export interface Measure {
  measure: string;
  engine: string;
  /** At the maximum: operations per second and latency. */
  max: Load;
  /** At half the maximum rate. */
  half?: Load;
  bound?: Bound & { ratio: number };
}

/** One JSON line per measure, as it is taken, for machines; `table` for people at the end. */
export function report(m: Measure): Measure {
  const round = (l: Load) => ({ ...l, perSecond: Number(l.perSecond.toFixed(1)) });
  console.log(JSON.stringify({ ...m, max: round(m.max), ...(m.half ? { half: round(m.half) } : {}), ...(m.bound ? { bound: { ...m.bound, rate: Number(m.bound.rate.toFixed(1)), ratio: Number(m.bound.ratio.toFixed(3)) } } : {}) }));
  return m;
}

export function measured(measure: string, engine: string, max: Load, half: Load | undefined, bound?: Bound): Measure {
  return report({ measure, engine, max, ...(half ? { half } : {}), ...(bound ? { bound: { ...bound, ratio: max.perSecond / bound.rate } } : {}) });
}

const n = (x: number, digits = 0) => x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function table(measures: Measure[]): string {
  const rows = measures.map((m) => {
    const ratio = m.bound ? `${m.bound.ratio.toFixed(2)} × ${m.bound.primitive}${m.bound.target ? (m.bound.ratio >= m.bound.target ? ` (target ≥ ${m.bound.target}: met)` : ` (target ≥ ${m.bound.target}: **missed**)`) : ""}` : "";
    const half = m.half ? `${m.half.p50} / ${m.half.p99}` : "";
    const errors = m.max.errors + (m.half?.errors ?? 0);
    const lanes = m.max.cost && m.max.cost.hashingLanesBusy > 0 ? ` (argon2id lanes busy ${n(m.max.cost.hashingLanesBusy * 100)} %)` : "";
    const cost = m.max.cost ? `${n(m.max.cost.statements, 1)} / ${n(m.max.cost.mainThreadCpuMs, 2)} / ${n(m.max.cost.mainThreadMs, 2)}${lanes}` : "";
    return `| ${m.engine} | ${m.measure} | ${n(m.max.perSecond, 1)} | ${m.max.p50} / ${m.max.p99} | ${half} | ${cost} | ${errors} | ${ratio} |`;
  });
  return ["| store | measure | max /s | p50 / p99 ms at max | p50 / p99 ms at 50 % | per operation: SQL statements / main-thread CPU ms / event-loop busy ms | errors | vs raw primitive (same run) |", "|---|---|---|---|---|---|---|---|", ...rows].join("\n");
}
