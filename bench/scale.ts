/**
 * Does signing in stay as fast when the store holds a million identities? A real Tessera server
 * on SQLite, then on PostgreSQL; the store filled in bulk (bench/identities.ts) to each size in
 * turn, and password logins measured at each: the maximum throughput and the latency at half of
 * it, by identities spread over the whole store (a stride through it, so that no two logins in
 * flight are the same person's and the index is read all over, not in one warm corner), and the
 * server's resident memory after them (it must not grow with the store: nothing per identity is
 * kept in memory).
 *
 *   npm run bench:scale [-- --sizes 10000,100000,1000000 --seconds 5 --engines sqlite,postgres]
 *
 * One JSON line per measure, then a Markdown table (bench/README.md keeps the latest).
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { passwordLogins } from "./browser.ts";
import { addIdentities } from "./identities.ts";
import { hammer, type Load } from "./load.ts";
import { type Engine, newTarget, tessera } from "./server.ts";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "10000,100000,1000000" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "16" },
    engines: { type: "string", default: "sqlite,postgres" },
  },
});
const SIZES = args.sizes.split(",").map(Number);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const STRIDE = 7919; // prime: k × STRIDE mod size visits every identity before any comes back

interface Row {
  engine: Engine;
  identities: number;
  insertSeconds: number;
  max: Load;
  half: Load;
  /** The server's RSS after the measures at this size, in MiB. */
  rssMiB: number;
}

const rows: Row[] = [];
for (const engine of args.engines.split(",") as Engine[]) {
  const target = await newTarget(engine);
  const server = await tessera(target);
  try {
    let size = 0;
    for (const wanted of SIZES) {
      console.error(`${engine}: ${wanted.toLocaleString("en-US")} identities…`);
      const { seconds: insertSeconds } = await addIdentities({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, from: size, count: wanted - size });
      size = wanted;
      let k = 0;
      const logins = (rate?: number) =>
        hammer({ ...passwordLogins(server.baseUrl, () => (k++ * STRIDE) % size), connections: CONNECTIONS, seconds: SECONDS, ...(rate ? { rate } : {}) });
      const max = await logins();
      const half = await logins(max.perSecond / 2);
      const row = { engine, identities: size, insertSeconds: Number(insertSeconds.toFixed(1)), max, half, rssMiB: Number((server.rss() / 2 ** 20).toFixed(1)) };
      console.log(JSON.stringify({ measure: "password login at scale", ...row }));
      rows.push(row);
    }
  } finally {
    await server.stop();
    await target.dispose();
  }
}

console.log(`
Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}; ${SECONDS} s per measure, ${CONNECTIONS} connections.

| store | identities | bulk insert (s, this step) | logins/s at max | p50 / p99 ms at max | p50 / p99 ms at 50 % | server RSS after (MiB) | errors |
|---|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.engine} | ${r.identities.toLocaleString("en-US")} | ${r.insertSeconds} | ${r.max.perSecond.toFixed(1)} | ${r.max.p50} / ${r.max.p99} | ${r.half.p50} / ${r.half.p99} | ${r.rssMiB} | ${r.max.errors + r.half.errors} |`).join("\n")}`);
if (rows.some((r) => r.max.errors + r.half.errors > 0)) process.exitCode = 1;
