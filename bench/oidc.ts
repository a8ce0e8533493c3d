/**
 * OpenID Connect throughput: client-credentials grants per second and whole code-flow sign-ins per
 * second against a real Tessera server (a child process on SQLite, as `npm start` runs it), each
 * set beside the raw rates of the crypto that bounds it, measured in the same run on the same
 * machine: ES256 signatures (every JWT access token and ES256 ID token) and argon2id password
 * checks at the demo tenants' cost (every sign-in). A bare oidc-provider (in-memory adapter, no
 * Tessera) answers the same client-credentials requests, for what Tessera adds around it.
 *
 *   npm run bench:oidc [-- --seconds 10 --connections 16 --users 8]
 *
 * Prints a Markdown table (bench/README.md keeps the latest) and the figures as JSON.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { hash, verify } from "@node-rs/argon2";
import autocannon from "autocannon";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { citizens, PASSWORD, registerClient, tessera, type User, waitForLine } from "./server.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "16" },
    users: { type: "string", default: "8" },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const USERS = Number(args.users);
const REDIRECT_URI = "http://localhost:9/callback";
const RESOURCE = "https://api.example.org/";

// ---------------------------------------------------------------------------------------------
// Raw crypto rates

/** ES256 signatures per second on one thread, over a JWT-sized input. */
function es256Rate(seconds: number): number {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const input = Buffer.from(`${"e".repeat(36)}.${"p".repeat(300)}`);
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) sign("sha256", input, { key: privateKey, dsaEncoding: "ieee-p1363" });
    n += 50;
  }
  return n / seconds;
}

/** argon2id checks per second at the demo tenants' cost (19 MiB, 2 passes), on every core. */
async function argon2Rate(seconds: number): Promise<number> {
  const phc = await hash(PASSWORD, { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  const end = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    cpus().map(async () => {
      while (performance.now() < end) {
        await verify(phc, PASSWORD);
        n++;
      }
    }),
  );
  return n / seconds;
}

// ---------------------------------------------------------------------------------------------
// Servers

async function bareProvider(): Promise<{ issuer: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, "bare-provider.mjs")], { stdio: ["ignore", "pipe", "pipe"] });
  const [, issuer] = await waitForLine(child, /bare oidc-provider on (\S+)/);
  return { issuer: issuer!, child };
}

// ---------------------------------------------------------------------------------------------
// Load

interface Rate {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

async function clientCredentials(tokenUrl: string, client: { id: string; secret: string }, body: string): Promise<Rate> {
  const result = await autocannon({
    url: tokenUrl,
    method: "POST",
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body,
  });
  return { perSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.non2xx + result.errors + result.timeouts };
}

/** A browser's cookies, enough for one sign-in. */
function cookieJar() {
  const jar = new Map<string, string>();
  return {
    header: () => [...jar].map(([k, v]) => `${k}=${v}`).join("; "),
    take(res: Response) {
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(";");
        const eq = pair!.indexOf("=");
        jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
    },
  };
}

/**
 * One whole sign-in as a new browser and the relying party see it: the authorization request,
 * the login page, the password, (the consent, the first time), back with a code, the code
 * redeemed for tokens with PKCE. Returns the ID token.
 */
async function signIn(baseUrl: string, client: { id: string; secret: string }, user: User): Promise<string> {
  const issuer = `${baseUrl}/t/national`;
  const verifier = randomBytes(32).toString("base64url");
  const jar = cookieJar();
  const request = new URL(`${issuer}/oidc/auth`);
  request.search = new URLSearchParams({
    client_id: client.id,
    redirect_uri: REDIRECT_URI,
    response_type: "code",
    scope: "openid profile",
    acr_values: "https://www.spid.gov.it/SpidL1",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    state: randomBytes(8).toString("hex"),
    nonce: randomBytes(8).toString("hex"),
  }).toString();

  let url = request.href;
  let form: Record<string, string> | undefined;
  for (let hops = 0; hops < 12; hops++) {
    if (url.startsWith(REDIRECT_URI)) {
      const code = new URL(url).searchParams.get("code");
      if (!code) throw new Error(`no code: ${url}`);
      const res = await fetch(`${issuer}/oidc/token`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString("base64")}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString(),
      });
      const tokens = (await res.json()) as { id_token?: string };
      if (!tokens.id_token) throw new Error(`token endpoint: ${JSON.stringify(tokens)}`);
      return tokens.id_token;
    }
    const res = await fetch(url, {
      method: form ? "POST" : "GET",
      redirect: "manual",
      headers: {
        cookie: jar.header(),
        accept: "text/html",
        ...(form ? { origin: baseUrl, "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    jar.take(res);
    form = undefined;
    const location = res.headers.get("location");
    if (location) {
      await res.arrayBuffer();
      url = new URL(location, url).href;
      continue;
    }
    const html = await res.text();
    const path = new URL(url).pathname;
    if (res.status === 200 && path === "/t/national/login") {
      const query = new URL(url).searchParams;
      form = { identifier: user.identifier, password: user.password, level: query.get("level") ?? "1", return_to: query.get("return_to") ?? "" };
      url = `${baseUrl}/t/national/login`;
    } else if (res.status === 200 && path.startsWith("/t/national/authorize/")) {
      form = { decision: "allow" };
      url = `${url}/consent`;
    } else {
      const said = /role="alert"[^>]*>([\s\S]*?)<\/(?:div|section)>/.exec(html)?.[1]?.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
      throw new Error(`unexpected ${res.status} at ${url}: ${said ?? html.slice(0, 300)}`);
    }
  }
  throw new Error("too many hops");
}

async function codeFlows(baseUrl: string, client: { id: string; secret: string }, users: User[]): Promise<Rate> {
  for (const user of users) await signIn(baseUrl, client, user); // each one's consent, once
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    users.map(async (user) => {
      while (performance.now() < end) {
        const started = performance.now();
        try {
          await signIn(baseUrl, client, user);
          latencies.push(performance.now() - started);
        } catch (error) {
          errors++;
          if (errors === 1) console.error(error);
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return { perSecond: latencies.length / SECONDS, p50: at(0.5), p99: at(0.99), errors };
}

// ---------------------------------------------------------------------------------------------

const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-bench-oidc-"));
const children: ChildProcess[] = [];
try {
  console.error(`raw crypto (${SECONDS / 2} s each)…`);
  const es256 = es256Rate(SECONDS / 2);
  const argon2 = await argon2Rate(SECONDS / 2);

  const server = await tessera(dataDir);
  children.push(server.child);
  const machine = await registerClient(dataDir, ["--name", "Bench API client", "--grant", "client_credentials", "--resource", RESOURCE]);
  const opaque = await registerClient(dataDir, ["--name", "Bench opaque client", "--grant", "client_credentials"]);
  const web = await registerClient(dataDir, ["--name", "Bench web app", "--redirect-uri", REDIRECT_URI]);
  const users = await citizens(dataDir, USERS);
  const tokenUrl = `${server.baseUrl}/t/national/oidc/token`;

  // Check what is measured: a JWT access token the tenant's keys verify, and a valid ID token.
  const probe = await fetch(tokenUrl, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`${machine.id}:${machine.secret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials",
  });
  const { access_token } = (await probe.json()) as { access_token: string };
  const jwks = createRemoteJWKSet(new URL(`${server.baseUrl}/t/national/oidc/jwks`));
  const { protectedHeader } = await jwtVerify(access_token, jwks, { audience: RESOURCE });
  if (protectedHeader.alg !== "ES256") throw new Error(`access token signed with ${protectedHeader.alg}`);
  await jwtVerify(await signIn(server.baseUrl, web, users[0]!), jwks, { audience: web.id, issuer: `${server.baseUrl}/t/national` });

  console.error(`client credentials, JWT (${SECONDS} s, ${CONNECTIONS} connections)…`);
  const jwtGrants = await clientCredentials(tokenUrl, machine, "grant_type=client_credentials");
  console.error("client credentials, opaque…");
  const opaqueGrants = await clientCredentials(tokenUrl, opaque, "grant_type=client_credentials");
  console.error(`code flow sign-ins (${SECONDS} s, ${USERS} browsers)…`);
  const logins = await codeFlows(server.baseUrl, web, users);
  server.child.kill("SIGTERM");

  const bare = await bareProvider();
  children.push(bare.child);
  console.error("bare oidc-provider, client credentials, JWT…");
  const bareGrants = await clientCredentials(`${bare.issuer}/token`, { id: "bench", secret: "bench-secret-bench-secret-bench-secret" }, `grant_type=client_credentials&resource=${encodeURIComponent(RESOURCE)}`);

  const ratio = (x: number, of: number) => `${((100 * x) / of).toFixed(1)} %`;
  const row = (name: string, r: Rate, vs: string) =>
    `| ${name} | ${r.perSecond.toFixed(1)} | ${r.p50} | ${r.p99} | ${r.errors} | ${vs} |`;
  console.log(`
Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}; ${SECONDS} s per measure.

| raw crypto, same run | per second |
|---|---|
| ES256 signatures (one thread) | ${es256.toFixed(0)} |
| argon2id checks, 19 MiB × 2 (all cores) | ${argon2.toFixed(1)} |

| measure | per second | p50 ms | p99 ms | errors | vs raw |
|---|---|---|---|---|---|
${row("client_credentials, JWT access token (ES256)", jwtGrants, `${ratio(jwtGrants.perSecond, es256)} of ES256`)}
${row("client_credentials, opaque access token", opaqueGrants, `${ratio(opaqueGrants.perSecond, es256)} of ES256`)}
${row("bare oidc-provider, client_credentials, JWT", bareGrants, `${ratio(bareGrants.perSecond, es256)} of ES256`)}
${row("code flow sign-in (auth → login → code → token)", logins, `${ratio(logins.perSecond, argon2)} of argon2id`)}
`);
  console.log(JSON.stringify({ es256, argon2, jwtGrants, opaqueGrants, bareGrants, logins }));
  if (jwtGrants.errors + opaqueGrants.errors + logins.errors + bareGrants.errors > 0) process.exitCode = 1;
} finally {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
}
