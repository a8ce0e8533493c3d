/**
 * `npm run bench:profile -- [sqlite|postgres]`: where a password login's main-thread time goes.
 * A fresh server (as `npm run bench` starts one) with a V8 CPU profile, 8 s of password logins at
 * 16 connections, then the profile's last 9.5 s summed by function: self time and inclusive time,
 * as shares of the time the main thread was not idle.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { passwordLogins } from "./browser.ts";
import { addIdentities } from "./identities.ts";
import { hammer } from "./load.ts";
import { newTarget, tessera } from "./server.ts";

const dir = mkdtempSync(path.join(tmpdir(), "prof-"));
process.env.BENCH_CPU_PROF = dir;
const target = await newTarget((process.argv[2] ?? "sqlite") as "sqlite" | "postgres");
const server = await tessera(target);
await addIdentities({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, count: 5000, totp: 3000 });
let next = 0;
const load = await hammer({ ...passwordLogins(server.baseUrl, () => 3000 + (next++ % 2000)), connections: 16, seconds: 8 });
console.log("logins/s", load.perSecond, "count", load.count);
await server.stop();
await new Promise((r) => setTimeout(r, 1500));
const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))!;
const profile = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]; samples: number[]; timeDeltas: number[]; startTime: number };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
// Only the last 9 s of samples: the load, not the start-up.
let t = 0;
const times = profile.timeDeltas.map((d) => (t += d));
const end = t;
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => {
  if (times[i]! < end - 9_500_000) return;
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const label = (id: number) => {
  const n = byId.get(id)!;
  return `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.replace(/^.*node_modules\//, "nm/").replace(/^.*\/main\//, "")}:${n.callFrame.lineNumber}`;
};
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfTime) {
  self.set(label(id), (self.get(label(id)) ?? 0) + us);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const l = label(at);
    if (!seen.has(l)) inclusive.set(l, (inclusive.get(l) ?? 0) + us);
    seen.add(l);
  }
}
const busy = [...self.entries()].filter(([k]) => !k.startsWith("(idle)")).reduce((a, [, b]) => a + b, 0);
const top = (m: Map<string, number>, n: number) => [...m.entries()].filter(([k]) => !k.startsWith("(idle)") && !k.startsWith("(root)")).sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${((v / busy) * 100).toFixed(1)}% ${k}`).join("\n");
console.log(`busy ms ${(busy / 1000).toFixed(0)}, per login ${(busy / 1000 / load.count).toFixed(2)}`);
console.log("SELF\n" + top(self, 30));
console.log("INCLUSIVE\n" + top(inclusive, 50));
