/**
 * `npm run bench:profile -- [sqlite|postgres] [login|client_credentials|saml]`: where the main
 * thread's time goes on one hot path. A fresh server (as `npm run bench` starts one) with a V8 CPU
 * profile, 8 s of the path at 16 connections (password logins; client_credentials grants; SAML SSO
 * for a signed-in user), then the profile's last 9.5 s summed by function and by package: self time
 * and inclusive time, as shares of the time the main thread was not idle.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { newKeyPair, spMetadata } from "../test/helpers/saml.ts";
import { authnRequestUrl, basic, Browser, passwordLogins, samlSignIn } from "./browser.ts";
import { addIdentities } from "./identities.ts";
import { type Hammer, hammer } from "./load.ts";
import { cli, type Engine, newTarget, registerClient, tessera } from "./server.ts";

const engine = (process.argv[2] ?? "sqlite") as Engine;
const path_ = (process.argv[3] ?? "login") as "login" | "client_credentials" | "saml";
const dir = mkdtempSync(path.join(tmpdir(), "prof-"));
process.env.BENCH_CPU_PROF = dir;
const target = await newTarget(engine);
const server = await tessera(target);
await addIdentities({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, count: 5000, totp: 3000 });
const SECONDS = 8;
let load: Omit<Hammer, "connections" | "seconds">;
if (path_ === "login") {
  let next = 0;
  load = { ...passwordLogins(server.baseUrl, () => 3000 + (next++ % 2000)) };
} else if (path_ === "client_credentials") {
  const machine = await registerClient(target, ["--name", "Profiled API client", "--grant", "client_credentials", "--resource", "https://api.example.org/"]);
  load = { url: `${server.baseUrl}/t/national/oidc/token`, method: "POST", headers: { authorization: basic(machine), "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=client_credentials", expect: [200] };
} else {
  const keys = await newKeyPair();
  writeFileSync(path.join(target.dataDir, "sp.xml"), spMetadata({ certificateBase64: keys.certificateBase64 }));
  await cli(target, ["sp", "add", "--tenant", "national", "--metadata", path.join(target.dataDir, "sp.xml")]);
  const sp = { privateKeyPem: keys.privateKeyPem, sso: `${server.baseUrl}/t/national/saml/sso` };
  const browser = new Browser(server.baseUrl);
  await samlSignIn(browser, sp, 4000);
  const requests = await Promise.all(Array.from({ length: SECONDS * 2000 }, () => authnRequestUrl(sp)));
  let next = 0;
  load = { url: server.baseUrl, headers: { cookie: browser.cookie }, setupRequest: (req) => ({ ...req, path: requests[next++ % requests.length]!.slice(server.baseUrl.length) }), expect: [200] };
}
const result = await hammer({ ...load, connections: 16, seconds: SECONDS });
console.log(`${path_} on ${engine}: ${result.perSecond}/s, count ${result.count}, errors ${result.errors}`);
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
console.log(`busy ms ${(busy / 1000).toFixed(0)}, per operation ${(busy / 1000 / result.count).toFixed(2)}`);
const packageOf = (label: string) => /(nm\/(?:@[^/]+\/)?[^/ ]+|src\/[^/ ]+|node:[^ :/]+)/.exec(label)?.[1] ?? "(native or V8)";
const packages = new Map<string, number>();
for (const [k, v] of self) if (!k.startsWith("(idle)")) packages.set(packageOf(k), (packages.get(packageOf(k)) ?? 0) + v);
console.log("BY PACKAGE\n" + top(packages, 20));
console.log("SELF\n" + top(self, 30));
console.log("INCLUSIVE\n" + top(inclusive, 50));
