/**
 * The whole server's speed, as DESIGN.md's performance targets ask: a real Tessera server (a child
 * process with the demo tenants, as `npm start` runs it) on SQLite, then on PostgreSQL, driven over
 * loopback HTTP. Every figure stands beside the raw rate of the primitive that bounds it, measured
 * in this run on this machine, and the ratio; every measure is taken at the maximum throughput and
 * again at half of it, for latency under ordinary load; and the server's memory is read before and
 * after 10,000 more sessions are opened and used.
 *
 *   npm run bench [-- --seconds 4 --connections 16 --engines sqlite,postgres]
 *
 * One JSON line per measure on stdout as it is taken, then a Markdown table (bench/README.md keeps
 * the latest). Exits 1 if any request failed.
 */
import { generateKeyPairSync, createPublicKey } from "node:crypto";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { successResponse } from "../src/federation/saml/response.ts";
import type { HashingParams } from "../src/identity/password/hashing.ts";
import { openStore } from "../src/store/db.ts";
import { findTenant } from "../src/tenants/service.ts";
import { newKeyPair, spMetadata } from "../test/helpers/saml.ts";
import { authnRequestUrl, basic, Browser, type Client, codeFlow, login, passwordLogins, REDIRECT_URI, samlSignIn, type ServiceProvider } from "./browser.ts";
import { addIdentities, addSessions } from "./identities.ts";
import { costed, hammer, journeys, type Load, type Measure, measured, table } from "./load.ts";
import { measurePki } from "./pki.ts";
import { argon2idVerifyRate, es256Rate, p256DigestRate, rsa2048PoolRate, rsa2048Rate, rsa3072Rate } from "./primitives.ts";
import { measureSigning } from "./signing.ts";
import { cli, type Engine, newTarget, registerClient, type Server, type Target, tessera, waitForLine } from "./server.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "4" },
    connections: { type: "string", default: "16" },
    engines: { type: "string", default: "sqlite,postgres" },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const ENGINES = args.engines.split(",") as Engine[];
const RESOURCE = "https://api.example.org/";
const SESSIONS = 10_000;

// Identities by role: 0…2999 have an authenticator app and sign in once each at level 2 (a code
// is good once); 3000…4999 sign in with a password, in turn; the OIDC and SAML journeys each
// have their own 64 returning users (their consent given once, beforehand).
const TOTP_USERS = 3000;
const PASSWORD_USERS = { from: 3000, count: 2000 };
const CODE_FLOW_USERS = 5000;
const SAML_USERS = 5100;
const RETURNING = 64;

interface Primitives {
  argon2id: number;
  es256: number;
  p256: number;
  rsa: number;
  rsaPool: number;
  rsa3072: number;
}

/** Users that one journey at a time may use: a journey waits for one to be free. */
function userPool(from: number, count: number) {
  const free = Array.from({ length: count }, (_, i) => from + i);
  const waiting: ((n: number) => void)[] = [];
  return async <T>(use: (n: number) => Promise<T>): Promise<T> => {
    const n = free.pop() ?? (await new Promise<number>((resolve) => waiting.push(resolve)));
    try {
      return await use(n);
    } finally {
      const next = waiting.shift();
      if (next) next(n);
      else free.push(n);
    }
  };
}

/** At the maximum, then at half of it. */
async function maxAndHalf(run: (rate?: number) => Promise<Load>): Promise<[Load, Load]> {
  const max = await run();
  return [max, await run(max.perSecond / 2)];
}

async function measureEngine(engine: Engine, raw: Primitives): Promise<Measure[]> {
  const target: Target = await newTarget(engine);
  let server: Server | undefined;
  try {
    server = await tessera(target);
    const { baseUrl } = server;
    const t = `${baseUrl}/t/national`;
    console.error(`${engine}: identities, clients, service provider…`);
    await addIdentities({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, count: SAML_USERS + RETURNING, totp: TOTP_USERS });
    const machine = await registerClient(target, ["--name", "Bench API client", "--grant", "client_credentials", "--resource", RESOURCE]);
    const web: Client = await registerClient(target, ["--name", "Bench web app", "--redirect-uri", REDIRECT_URI]);
    const keys = await newKeyPair();
    writeFileSync(path.join(target.dataDir, "sp.xml"), spMetadata({ certificateBase64: keys.certificateBase64 }));
    await cli(target, ["sp", "add", "--tenant", "national", "--metadata", path.join(target.dataDir, "sp.xml")]);
    const sp: ServiceProvider = { privateKeyPem: keys.privateKeyPem, sso: `${t}/saml/sso` };

    const argon2 = { primitive: "argon2id verify", rate: raw.argon2id };
    // At the maximum, with what each operation cost the server; then at half of it.
    const maxAndHalf = async (run: (rate?: number) => Promise<Load>): Promise<[Load, Load]> => {
      const max = await costed(baseUrl, () => run());
      return [max, await run(max.perSecond / 2)];
    };
    const measures: Measure[] = [];

    // Password login: the identifier-and-password form, answered with the session cookie.
    console.error(`${engine}: password login…`);
    let next = 0;
    const passwordLogin = (rate?: number) =>
      hammer({
        ...passwordLogins(baseUrl, () => PASSWORD_USERS.from + (next++ % PASSWORD_USERS.count)),
        connections: CONNECTIONS,
        seconds: SECONDS,
        ...(rate ? { rate } : {}),
      });
    measures.push(measured("password login (form → session cookie)", engine, ...(await maxAndHalf(passwordLogin)), { ...argon2, target: 0.9 }));

    // Level 2: the password, then the authenticator app's code; each user once (a code is good once).
    console.error(`${engine}: level-2 login…`);
    let totpUser = 0;
    const l2 = () => {
      if (totpUser >= TOTP_USERS) throw new Error("out of level-2 users: lower --seconds");
      return login(new Browser(baseUrl), totpUser++, 2);
    };
    const l2Login = (rate?: number) => journeys({ run: l2, seconds: SECONDS, ...(rate ? { rate } : { concurrency: CONNECTIONS }) });
    measures.push(measured("level-2 login (password + TOTP code → session)", engine, ...(await maxAndHalf(l2Login)), argon2));

    // OpenID Connect.
    console.error(`${engine}: OpenID Connect…`);
    const tokenUrl = `${t}/oidc/token`;
    const probe = await fetch(tokenUrl, { method: "POST", headers: { authorization: basic(machine), "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=client_credentials" });
    const { access_token } = (await probe.json()) as { access_token: string };
    const jwks = createRemoteJWKSet(new URL(`${t}/oidc/jwks`));
    const { protectedHeader } = await jwtVerify(access_token, jwks, { audience: RESOURCE });
    if (protectedHeader.alg !== "ES256") throw new Error(`access token signed with ${protectedHeader.alg}`);
    const grants = (rate?: number) =>
      hammer({
        url: tokenUrl,
        method: "POST",
        headers: { authorization: basic(machine), "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials",
        expect: [200],
        connections: CONNECTIONS,
        seconds: SECONDS,
        ...(rate ? { rate } : {}),
      });
    measures.push(measured("OIDC client_credentials grant (ES256 JWT access token)", engine, ...(await maxAndHalf(grants)), { primitive: "ES256 sign", rate: raw.es256 }));

    const codeFlowUser = userPool(CODE_FLOW_USERS, RETURNING);
    const warm = await Promise.all(Array.from({ length: RETURNING }, () => codeFlowUser((n) => codeFlow(baseUrl, web, n))));
    await jwtVerify(warm[0]!.id_token, jwks, { audience: web.id, issuer: t });
    const codeFlows = (rate?: number) => journeys({ run: () => codeFlowUser((n) => codeFlow(baseUrl, web, n)), seconds: SECONDS, ...(rate ? { rate } : { concurrency: CONNECTIONS }) });
    measures.push(measured("OIDC code flow (authorize → login → code → token)", engine, ...(await maxAndHalf(codeFlows)), argon2));

    // SAML: the whole sign-in, then single sign-on for a user already signed in.
    console.error(`${engine}: SAML…`);
    const samlUser = userPool(SAML_USERS, RETURNING);
    await Promise.all(Array.from({ length: RETURNING }, () => samlUser((n) => samlSignIn(new Browser(baseUrl), sp, n))));
    const samlJourneys = (rate?: number) => journeys({ run: () => samlUser((n) => samlSignIn(new Browser(baseUrl), sp, n)), seconds: SECONDS, ...(rate ? { rate } : { concurrency: CONNECTIONS }) });
    measures.push(measured("SAML SSO with login (AuthnRequest → login → signed Response)", engine, ...(await maxAndHalf(samlJourneys)), argon2));

    const signedIn = new Browser(baseUrl);
    await samlSignIn(signedIn, sp, SAML_USERS);
    // Every request unique and signed by the SP before the clock starts (replays are refused).
    const requests = await Promise.all(Array.from({ length: Math.round(SECONDS * 4000) }, () => authnRequestUrl(sp)));
    let nextRequest = 0;
    const sso = (rate?: number) =>
      hammer({
        url: baseUrl,
        headers: { cookie: signedIn.cookie },
        setupRequest: (req) => ({ ...req, path: requests[nextRequest++ % requests.length]!.slice(baseUrl.length) }),
        expect: [200],
        connections: CONNECTIONS,
        seconds: SECONDS / 2,
        ...(rate ? { rate } : {}),
      });
    measures.push(measured("SAML SSO, signed in (AuthnRequest → signed Response)", engine, ...(await maxAndHalf(sso)), { primitive: "RSA-2048 sign", rate: raw.rsa, target: 0.7 }));

    // No crypto: userinfo with an access token, and a page of the signed-in user's.
    console.error(`${engine}: userinfo, account page, memory…`);
    const userinfo = (rate?: number) =>
      hammer({ url: `${t}/oidc/userinfo`, headers: { authorization: `Bearer ${warm[1]!.access_token}` }, expect: [200], connections: CONNECTIONS, seconds: SECONDS, ...(rate ? { rate } : {}) });
    measures.push(measured("OIDC userinfo (opaque access token)", engine, ...(await maxAndHalf(userinfo))));

    // The account page: first 10,000 requests by one session, then 10,000 more sessions opened
    // and each used once. The server keeps no session in memory, so its memory should not grow
    // with them: RSS read after each pass (both passes allocate alike, so the garbage is alike).
    const accountPage = (cookies: string[], options: { rate?: number; amount?: number }) => {
      let k = 0;
      return hammer({
        url: `${t}/account`,
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, cookie: cookies[k++ % cookies.length]! } }),
        expect: [200],
        connections: CONNECTIONS,
        seconds: SECONDS,
        ...options,
      });
    };
    const one = [signedIn.cookie];
    await accountPage(one, { amount: 2000 });
    const max = await costed(baseUrl, () => accountPage(one, { amount: SESSIONS }));
    const rssBefore = server.rss();
    const tokens = await addSessions({ databaseUrl: target.databaseUrl, count: SESSIONS });
    const distinct = tokens.map((token) => `tessera_session=${token}`);
    const maxDistinct = await costed(baseUrl, () => accountPage(distinct, { amount: SESSIONS }));
    const rssAfter = server.rss();
    measures.push(measured("account page, one session", engine, max, await accountPage(one, { rate: max.perSecond / 2 })));
    measures.push(measured("account page, 10,000 sessions each once", engine, maxDistinct, undefined));
    console.error(`${engine}: PKI (OCSP, issuance)…`);
    measures.push(...(await measurePki(target, server, { seconds: SECONDS, connections: CONNECTIONS, rsa3072: raw.rsa3072, maxAndHalf })));
    console.error(`${engine}: remote signing (CSC signHash)…`);
    measures.push(...(await measureSigning(target, server, { connections: CONNECTIONS, p256: raw.p256 })));
    console.log(JSON.stringify({ measure: "server RSS per 10,000 live sessions", engine, rssBeforeMiB: mib(rssBefore), rssAfterMiB: mib(rssAfter), perTenThousandMiB: mib(rssAfter - rssBefore) }));
    memory.push({ engine, before: rssBefore, after: rssAfter });
    return measures;
  } finally {
    await server?.stop();
    await target.dispose();
  }
}

const mib = (bytes: number) => Number((bytes / 1_048_576).toFixed(1));
const memory: { engine: string; before: number; after: number }[] = [];

/** Tessera's SAML response builder by itself, on the thread pool: what signing costs it. */
async function samlBuilderRate(seconds: number): Promise<number> {
  const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const credential = { id: "bench", privateKey, publicKey: createPublicKey(privateKey), certificate: "MIIB", notAfter: 0 };
  const input = {
    idpEntityId: "https://idp.example.it/t/national",
    spEntityId: "https://sp.example.it/metadata",
    destination: "https://sp.example.it/acs",
    inResponseTo: "_request",
    validForMs: 300_000,
    nameId: "_name",
    sessionIndex: "_session",
    level: 1 as const,
    attributes: [
      { name: "name" as const, value: "Mario" },
      { name: "familyName" as const, value: "Rossi" },
      { name: "fiscalNumber" as const, value: "TINIT-RSSMRA80A01H501U" },
    ],
  };
  const end = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }, async () => {
      while (performance.now() < end) {
        const now = Date.now();
        await successResponse({ ...input, now, authnInstant: now }, credential);
        n++;
      }
    }),
  );
  return n / seconds;
}

/**
 * oidc-provider alone (bench/bare-provider.mjs): DESIGN.md's bar for client_credentials; and the
 * same behind Fastify as Tessera mounts it, the ceiling of Tessera's stack.
 */
async function bareProvider(es256: number, behindFastify: boolean): Promise<Measure> {
  const child: ChildProcess = spawn(process.execPath, [path.join(import.meta.dirname, "bare-provider.mjs"), ...(behindFastify ? ["--behind-fastify"] : [])], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const [, issuer] = await waitForLine(child, /bare oidc-provider.* on (\S+)/);
    const grants = (rate?: number) =>
      hammer({
        url: `${issuer}/token`,
        method: "POST",
        headers: { authorization: basic({ id: "bench", secret: "bench-secret-bench-secret-bench-secret" }), "content-type": "application/x-www-form-urlencoded" },
        body: `grant_type=client_credentials&resource=${encodeURIComponent(RESOURCE)}`,
        expect: [200],
        connections: CONNECTIONS,
        seconds: SECONDS,
        ...(rate ? { rate } : {}),
      });
    const name = behindFastify ? "ceiling: bare oidc-provider behind Fastify (Tessera's mount), client_credentials" : "bare oidc-provider, client_credentials (ES256 JWT)";
    return measured(name, "memory", ...(await maxAndHalf(grants)), { primitive: "ES256 sign", rate: es256 });
  } finally {
    child.kill("SIGTERM");
  }
}

/**
 * bench/least-login.ts: Fastify and one argon2id verification on the same lanes, nothing else,
 * driven as Tessera's password login is. The login target is read against it.
 */
async function leastLogin(params: HashingParams, argon2id: number): Promise<Measure> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "least-login.ts"), JSON.stringify(params)], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const [, baseUrl] = await waitForLine(child, /least login on (\S+)/);
    let next = 0;
    const logins = (rate?: number) => hammer({ ...passwordLogins(baseUrl!, () => PASSWORD_USERS.from + (next++ % PASSWORD_USERS.count)), connections: CONNECTIONS, seconds: SECONDS, ...(rate ? { rate } : {}) });
    return measured("ceiling: Fastify + one argon2id verify, nothing else (least-login.ts)", "none", ...(await maxAndHalf(logins)), { primitive: "argon2id verify", rate: argon2id, target: 0.9 });
  } finally {
    child.kill("SIGTERM");
  }
}

async function tenantHashing(): Promise<HashingParams> {
  // The demo tenants' cost, as `npm start` creates them: read from a throwaway store.
  const target = await newTarget("sqlite");
  try {
    const server = await tessera(target);
    await server.stop();
    const store = openStore(target.databaseUrl);
    try {
      return (await findTenant(store.repos, "national"))!.policy.password.hashing;
    } finally {
      await store.close();
    }
  } finally {
    await target.dispose();
  }
}

const started = performance.now();
const argon2Params = await tenantHashing();
console.error("raw primitives…");
const argon2 = await argon2idVerifyRate(3, argon2Params);
const raw: Primitives = {
  argon2id: argon2.perSecond,
  es256: es256Rate(2),
  p256: p256DigestRate(2),
  rsa: rsa2048Rate(2),
  rsaPool: await rsa2048PoolRate(2),
  rsa3072: rsa3072Rate(2),
};
const builder = await samlBuilderRate(2);
const primitives = {
  measure: "raw primitives",
  argon2id: { perSecond: Number(raw.argon2id.toFixed(1)), params: argon2Params, lanes: argon2.lanes },
  es256: { perSecond: Math.round(raw.es256), lanes: 1 },
  p256Digest: { perSecond: Math.round(raw.p256), lanes: 1 },
  rsa2048: { perSecond: Math.round(raw.rsa), lanes: 1 },
  rsa2048Pool: { perSecond: Math.round(raw.rsaPool), lanes: Number(process.env.UV_THREADPOOL_SIZE ?? 4) },
  rsa3072: { perSecond: Math.round(raw.rsa3072), lanes: 1 },
  samlResponseBuilder: { perSecond: Math.round(builder), ratioToRsa: Number((builder / raw.rsa).toFixed(2)) },
};
console.log(JSON.stringify(primitives));

const measures: Measure[] = [await bareProvider(raw.es256, false), await bareProvider(raw.es256, true), await leastLogin(argon2Params, raw.argon2id)];
for (const engine of ENGINES) measures.push(...(await measureEngine(engine, raw)));

console.log(`
Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; ${SECONDS} s per measure, ${CONNECTIONS} connections (browsers for journeys).

| raw primitive, same run | per second |
|---|---|
| argon2id verify, ${argon2Params.memoryKiB} KiB × ${argon2Params.iterations} passes, the server's ${argon2.lanes} password-hashing lanes | ${raw.argon2id.toFixed(1)} |
| ES256 sign, one thread | ${Math.round(raw.es256)} |
| P-256 digest sign (@noble/curves, as the signing workers), one thread | ${Math.round(raw.p256)} |
| RSA-2048 sign, one thread | ${Math.round(raw.rsa)} |
| RSA-2048 sign, thread pool | ${Math.round(raw.rsaPool)} |
| RSA-3072 sign, one thread (the demo CAs' issuing and OCSP keys) | ${Math.round(raw.rsa3072)} |
| Tessera's SAML response builder alone (signed Response), thread pool | ${Math.round(builder)} (${(builder / raw.rsa).toFixed(2)} × one-thread RSA) |

${table(measures)}

| store | server RSS before | after 10,000 more sessions, each used once | per 10,000 sessions |
|---|---|---|---|
${memory.map((m) => `| ${m.engine} | ${mib(m.before)} MiB | ${mib(m.after)} MiB | ${mib(m.after - m.before)} MiB |`).join("\n")}

Total ${((performance.now() - started) / 1000).toFixed(0)} s.`);
if (measures.some((m) => m.max.errors + (m.half?.errors ?? 0) > 0)) process.exitCode = 1;
