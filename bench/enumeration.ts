/**
 * Can anyone tell by timing which identifiers exist? (issue 21.) A real Tessera server, as
 * `npm start` runs it (the demo tenants at their real argon2id cost), on SQLite then PostgreSQL;
 * for every path that takes an identifier, one request at a time, `--tries` tries with a known
 * identifier and a wrong secret and as many with an unknown identifier, interleaved (known first
 * on even tries, unknown first on odd ones) so that drift in the machine's speed falls on both
 * alike. Each try uses an identifier of its own and comes from an address of its own
 * (`X-Forwarded-For`, the server trusting one proxy), so that no brute-force delay or lock
 * stands in the way: what is measured is the work of an ordinary refusal.
 *
 * For each path: the median latency (and quartiles) of each sample, their difference, and the
 * two-sided Mann–Whitney p-value (small: the samples differ; large: no evidence that they do).
 * Beside them, a lone argon2id verification at the tenants' cost, in this process, this run.
 *
 *   npm run bench:enumeration [-- --tries 60 --engines sqlite,postgres --only "recovery"]
 *
 * One JSON line per path on stdout, then a Markdown table (bench/README.md keeps the latest).
 * Exits 1 if any answer was not the refusal the path expects.
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { hash, verify } from "@node-rs/argon2";
import { createAccount } from "../src/identity/accounts.ts";
import { hashSecret } from "../src/identity/password/hashing.ts";
import { normalizeAnswer } from "../src/identity/security-question.ts";
import { systemClock } from "../src/shared/clock.ts";
import { loadMasterKey } from "../src/shared/crypto/master-key.ts";
import { createSecrets } from "../src/shared/crypto/secrets.ts";
import { openStore } from "../src/store/db.ts";
import { findTenant } from "../src/tenants/service.ts";
import type { Tenant } from "../src/tenants/tenant.ts";
import { newKeyPair, spMetadata } from "../test/helpers/saml.ts";
import { authnRequestUrl, Browser, type Client, REDIRECT_URI, type ServiceProvider } from "./browser.ts";
import { cli, type Engine, newTarget, registerClient, type Target, tessera } from "./server.ts";
import { mannWhitney, median, quantile } from "./stats.ts";

const { values: args } = parseArgs({
  options: {
    tries: { type: "string", default: "60" },
    engines: { type: "string", default: "sqlite,postgres" },
    /** Only the paths whose name contains this. */
    only: { type: "string", default: "" },
  },
});
const TRIES = Number(args.tries);
const WARMUP = 5;
const PER_PATH = TRIES + WARMUP;
const PASSWORD = "Quercia-Verde-2026!";
const WRONG = "Sbagliata-Davvero-2026!";
const ANSWER = "Fuffi";

const DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE";
const dni = (n: number) => `${String(n).padStart(8, "0")}${DNI_LETTERS[n % 23]}`;

/** The identifiers of try `i` of the path numbered `p`: a known one (made below) and an unknown one. */
const people = {
  national: (p: number, i: number) => [`known-${p}-${i}@bench.tessera.example`, `nobody-${p}-${i}@bench.tessera.example`] as const,
  university: (p: number, i: number) => [String(20_000_000 + p * 1000 + i), String(29_000_000 + p * 1000 + i)] as const,
  pro: (p: number, i: number) => [dni(30_000_000 + p * 1000 + i), dni(39_000_000 + p * 1000 + i)] as const,
  customer: (p: number, i: number) => [`shop-${p}-${i}@bench.tessera.example`, `noshop-${p}-${i}@bench.tessera.example`] as const,
};
type Who = keyof typeof people;

interface Context {
  baseUrl: string;
  client: Client;
  sp: ServiceProvider;
}

interface Path {
  name: string;
  who: Who;
  /** The status of the refusal (or of the answer that must not tell): both samples must get it. */
  status: number;
  /** Gets to where the identifier or its secret is typed; not timed. */
  prepare(ctx: Context, identifier: string, ip: string): Promise<unknown>;
  /** The request timed. */
  submit(ctx: Context, state: unknown, identifier: string, ip: string): Promise<number>;
}

async function json(url: string, body: unknown, ip: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "x-forwarded-for": ip }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const flowOf = async (ctx: Context, tenant: string, kind: string, ip: string) => (await json(`${ctx.baseUrl}/t/${tenant}/api/flows`, { kind }, ip)).body.id as string;

/** A browser walked from `url` to the sign-in page: the browser and the page's form fields. */
async function atSignInPage(ctx: Context, url: string) {
  const browser = new Browser(ctx.baseUrl);
  const query = await browser.walk(url, undefined, (page) => {
    if (page.status === 200 && new URL(page.url).pathname === "/t/national/login") return { done: new URL(page.url).searchParams };
    throw new Error(`not the sign-in page: ${page.status} ${page.url}`);
  });
  return { browser, returnTo: query.get("return_to") ?? "", level: query.get("level") ?? "1" };
}

async function postSignIn(ctx: Context, state: unknown, identifier: string, ip: string): Promise<number> {
  const { browser, returnTo, level } = state as Awaited<ReturnType<typeof atSignInPage>>;
  const res = await browser.fetch(`${ctx.baseUrl}/t/national/login`, { form: { identifier, password: WRONG, level, return_to: returnTo }, headers: { "x-forwarded-for": ip } });
  await res.arrayBuffer();
  return res.status;
}

const apiLogin = (tenant: "national" | "university" | "pro"): Path => ({
  name: `sign-in, flow API (${tenant})`,
  who: tenant,
  status: 400,
  prepare: (ctx, _id, ip) => flowOf(ctx, tenant, "login", ip),
  submit: async (ctx, id, identifier, ip) => (await json(`${ctx.baseUrl}/t/${tenant}/api/flows/${id as string}`, { step: "identify", identifier, password: WRONG }, ip)).status,
});

/**
 * Password recovery by `method`: the identifier (answered alike whether it exists), then a wrong
 * second value (`wrong`: an answer, or a code never sent) after the identifier.
 */
function recovery(tenant: "national" | "university", method: string, wrong: Record<string, string>): Path[] {
  const flows = (ctx: Context, id: unknown) => `${ctx.baseUrl}/t/${tenant}/api/flows/${id as string}`;
  return [
    {
      name: `recovery by ${method}: identifier`,
      who: tenant,
      status: 200,
      prepare: (ctx, _id, ip) => flowOf(ctx, tenant, "recovery", ip),
      submit: async (ctx, id, identifier, ip) => (await json(flows(ctx, id), { step: "identify", identifier }, ip)).status,
    },
    {
      name: `recovery by ${method}: wrong ${wrong.step === "question" ? "answer" : "code"}`,
      who: tenant,
      status: 400,
      async prepare(ctx, identifier, ip) {
        const id = await flowOf(ctx, tenant, "recovery", ip);
        await json(flows(ctx, id), { step: "identify", identifier }, ip);
        return id;
      },
      submit: async (ctx, id, _identifier, ip) => (await json(flows(ctx, id), wrong, ip)).status,
    },
  ];
}

const PATHS: Path[] = [
  apiLogin("national"),
  apiLogin("university"),
  apiLogin("pro"),
  {
    name: "sign-in page (form post)",
    who: "national",
    status: 400,
    prepare: async (ctx) => ({ browser: new Browser(ctx.baseUrl), returnTo: "", level: "1" }),
    submit: postSignIn,
  },
  {
    name: "sign-in page of an OIDC authorization",
    who: "national",
    status: 400,
    prepare(ctx) {
      const auth = new URL(`${ctx.baseUrl}/t/national/oidc/auth`);
      auth.search = new URLSearchParams({ client_id: ctx.client.id, redirect_uri: REDIRECT_URI, response_type: "code", scope: "openid", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256", state: "s", nonce: "n" }).toString();
      return atSignInPage(ctx, auth.href);
    },
    submit: postSignIn,
  },
  {
    name: "sign-in page of a SAML request",
    who: "national",
    status: 400,
    prepare: async (ctx) => atSignInPage(ctx, await authnRequestUrl(ctx.sp)),
    submit: postSignIn,
  },
  ...recovery("national", "security question", { step: "question", answer: "Rex" }),
  ...recovery("university", "e-mail link", { step: "email_link", code: "0000000" }),
  {
    name: '"Ho già un account" (shop account link)',
    who: "customer",
    status: 400,
    async prepare(ctx, _id, ip) {
      const id = await flowOf(ctx, "national", "enrolment", ip);
      await json(`${ctx.baseUrl}/t/national/api/flows/${id}`, { step: "method", method: "signature" }, ip);
      return id;
    },
    submit: async (ctx, id, identifier, ip) =>
      (await json(`${ctx.baseUrl}/t/national/api/flows/${id as string}`, { step: "credentials", customer_email: identifier, customer_password: WRONG, privacy_consent: true }, ip)).status,
  },
  {
    name: "coming back to an identity request",
    who: "national",
    status: 401,
    prepare: async () => undefined,
    submit: async (ctx, _state, identifier, ip) => (await json(`${ctx.baseUrl}/t/national/api/flows`, { kind: "enrolment", email: identifier, password: WRONG }, ip)).status,
  },
];

/** The known identities of every path, with one argon2id hash per tenant shared by all (as bench/identities.ts does). */
async function populate(target: Target): Promise<void> {
  const store = openStore(target.databaseUrl);
  const secrets = createSecrets(loadMasterKey(process.env.TESSERA_MASTER_KEY || undefined, target.dataDir).key);
  const deps = { repos: store.repos, clock: systemClock, secrets };
  const by = { actor: "bench" };
  const hashes = new Map<string, { password: string; answer: string }>();
  const hashesOf = async (tenant: Tenant) => {
    let h = hashes.get(tenant.id);
    if (!h) {
      h = { password: await hashSecret(PASSWORD, tenant.policy.password.hashing), answer: await hashSecret(normalizeAnswer(ANSWER), tenant.policy.password.hashing) };
      hashes.set(tenant.id, h);
    }
    return h;
  };
  try {
    for (const [p, path] of PATHS.entries()) {
      const tenant = (await findTenant(store.repos, path.who === "customer" ? "national" : path.who))!;
      const h = await hashesOf(tenant);
      for (let i = 0; i < PER_PATH; i++) {
        const [identifier] = people[path.who](p, i);
        const email = tenant.policy.identifier === "email" ? identifier : `known-${p}-${i}@bench.tessera.example`;
        const account = await createAccount(
          deps,
          tenant,
          { identifier, state: "active", email, emailVerified: true, phone: `+3933${String(p * 1000 + i).padStart(8, "0")}`, phoneVerified: true, ...(path.who === "customer" ? { kind: "customer" as const } : {}) },
          by,
        );
        await store.repos.accounts.setPassword({ account_id: account.id, hash: h.password, set_at: Date.now(), must_change: 0 });
        if (path.who === "national") await store.repos.accounts.setSecurityAnswer({ account_id: account.id, question: "first_pet", answer_hash: h.answer, set_at: Date.now() });
      }
    }
  } finally {
    await store.close();
  }
}

interface Row {
  engine: Engine;
  path: string;
  known: number[];
  unknown: number[];
}

let addresses = 0;
/** A client address of its own for each try: 10.x.y.z. */
const nextIp = () => {
  const n = ++addresses;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};

async function measurePath(ctx: Context, p: number, path: Path): Promise<{ known: number[]; unknown: number[] }> {
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < PER_PATH; i++) {
    const [k, u] = people[path.who](p, i);
    const one = async (identifier: string, into: number[]) => {
      const ip = nextIp();
      const state = await path.prepare(ctx, identifier, ip);
      const started = performance.now();
      const status = await path.submit(ctx, state, identifier, ip);
      const ms = performance.now() - started;
      if (status !== path.status) throw new Error(`${path.name}: ${identifier} got ${status}, expected ${path.status}`);
      if (i >= WARMUP) into.push(ms);
    };
    if (i % 2 === 0) {
      await one(k, known);
      await one(u, unknown);
    } else {
      await one(u, unknown);
      await one(k, known);
    }
  }
  return { known, unknown };
}

/** One argon2id verification at a time, at the demo tenants' cost: what every refusal above costs at least. */
async function argon2idLatency(): Promise<number> {
  const params = { algorithm: 2 as const, memoryCost: 19_456, timeCost: 2, parallelism: 1 };
  const phc = await hash(PASSWORD, params);
  const times: number[] = [];
  for (let i = 0; i < 40; i++) {
    const started = performance.now();
    await verify(phc, WRONG);
    times.push(performance.now() - started);
  }
  return median(times.slice(5));
}

const rows: Row[] = [];
const argon2 = await argon2idLatency();
console.error(`argon2id verify alone: ${argon2.toFixed(1)} ms (median)`);
for (const engine of args.engines.split(",") as Engine[]) {
  const target = await newTarget(engine);
  const server = await tessera(target, ["--trust-proxy", "1"]);
  try {
    console.error(`${engine}: ${PATHS.length} paths × ${PER_PATH} known identities…`);
    await populate(target);
    const client = await registerClient(target, ["--name", "Bench web app", "--redirect-uri", REDIRECT_URI]);
    const keys = await newKeyPair();
    writeFileSync(path.join(target.dataDir, "sp.xml"), spMetadata({ certificateBase64: keys.certificateBase64 }));
    await cli(target, ["sp", "add", "--tenant", "national", "--metadata", path.join(target.dataDir, "sp.xml")]);
    const ctx: Context = { baseUrl: server.baseUrl, client, sp: { privateKeyPem: keys.privateKeyPem, sso: `${server.baseUrl}/t/national/saml/sso` } };
    for (const [p, each] of PATHS.entries()) {
      if (!each.name.includes(args.only)) continue;
      const { known, unknown } = await measurePath(ctx, p, each);
      const row = { engine, path: each.name, known, unknown };
      rows.push(row);
      const test = mannWhitney(known, unknown);
      console.log(
        JSON.stringify({
          measure: "known vs unknown identifier",
          engine,
          path: each.name,
          tries: known.length,
          knownMedianMs: round(median(known)),
          unknownMedianMs: round(median(unknown)),
          differenceMs: round(median(unknown) - median(known)),
          mannWhitneyP: Number(test.p.toFixed(3)),
        }),
      );
    }
  } finally {
    await server.stop();
    await target.dispose();
  }
}

function round(x: number): number {
  return Number(x.toFixed(1));
}

const iqr = (v: number[]) => `${median(v).toFixed(1)} (${quantile(v, 0.25).toFixed(1)}–${quantile(v, 0.75).toFixed(1)})`;
console.log(`\n${TRIES} tries each, one at a time; ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}; argon2id verify alone (19,456 KiB × 2): ${argon2.toFixed(1)} ms\n`);
console.log("| store | path | known: median (quartiles) ms | unknown: median (quartiles) ms | difference ms | Mann–Whitney p |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) {
  const { p } = mannWhitney(r.known, r.unknown);
  console.log(`| ${r.engine} | ${r.path} | ${iqr(r.known)} | ${iqr(r.unknown)} | ${(median(r.unknown) - median(r.known)).toFixed(1)} | ${p.toFixed(2)} |`);
}
