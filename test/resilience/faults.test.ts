/**
 * Three nodes behind HAProxy on one PostgreSQL database, people enrolling and signing in (level
 * 2, OpenID Connect, SAML) at a steady rate, and, while they do, one fault after another: a node
 * killed with SIGKILL, Redis down, the SMTP server and SMS gateway down for a minute, PostgreSQL
 * restarted, a node stopped with SIGTERM, a node started with the wrong master key. Afterwards
 * the data is checked: nothing lost (every journey finished, every message delivered), nothing
 * half-written (every enrolment whole, the audit chains intact), nothing twice (one account per
 * enrolment, each message delivered once). The figures go to standard output and into
 * docs/operations.md.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addIdentities } from "../../bench/identities.ts";
import { Browser, REDIRECT_URI } from "../../bench/browser.ts";
import { DEMO_SIGNER, signerAccessToken } from "../../bench/signing.ts";
import { newKeyPair, spMetadata } from "../helpers/saml.ts";
import { freshPgSchemaUrl, pgUrl } from "../helpers/stores.ts";
import { ADMIN_TOKEN, Cluster, sleep, startPostgres, startRedis, status, stopPostgres, stopRedis, until } from "./cluster.ts";
import { type Journey, KINDS, Traffic } from "./users.ts";

const haproxy = (() => {
  try {
    execFileSync("haproxy", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (process.env.CI && !haproxy) throw new Error("the resilience tests need HAProxy (apt-get install haproxy; .ci/run installs it)");

/** How long the SMTP server and the SMS gateway stay down (the issue: a minute). */
const OUTAGE_MS = Number(process.env.TESSERA_OUTAGE_SECONDS ?? 60) * 1000;
const IDENTITIES = { from: 0, count: 400 };
const REDIS_URL = "redis://127.0.0.1:6379/0";

interface Fault {
  name: string;
  started: number;
  ended?: number;
  observed: string[];
}

describe.skipIf(!pgUrl || !haproxy)("three nodes behind HAProxy, under faults", { timeout: 15 * 60_000 }, () => {
  let cluster: Cluster;
  let databaseUrl: string;
  let traffic: Traffic;
  const faults: Fault[] = [];
  const t0 = Date.now();
  const at = () => Math.round((Date.now() - t0) / 1000);
  const fault = (name: string) => {
    const f: Fault = { name, started: at(), observed: [] };
    faults.push(f);
    return f;
  };

  beforeAll(async () => {
    databaseUrl = await freshPgSchemaUrl();
    cluster = await Cluster.start({
      databaseUrl,
      redisUrl: REDIS_URL,
      nodes: 3,
      env: {
        // Every request reaches the nodes from the proxy's one address: the per-address flood
        // limit would be the whole cluster's.
        TESSERA_RATE_LIMIT_MAX: "1000000",
        // After the outage every message should go within seconds, not five minutes.
        TESSERA_OUTBOX_MAX_RETRY_DELAY: "10",
        // Out of HAProxy's rotation (2 failed checks 500 ms apart) before closing.
        TESSERA_SHUTDOWN_DRAIN: "2",
      },
    });
    process.env.TESSERA_MASTER_KEY = cluster.masterKey;
    try {
      await addIdentities({ databaseUrl, dataDir: mkdtempSync(path.join(tmpdir(), "tessera-ids-")), count: IDENTITIES.count, totp: IDENTITIES.count });
    } finally {
      delete process.env.TESSERA_MASTER_KEY;
    }
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
    // Whatever happened, leave the machine's services running for the next tests.
    await startPostgres().catch(() => {});
    await startRedis().catch(() => {});
  });

  it("loses nothing, half-writes nothing and duplicates nothing", async () => {
    const created = await cluster.tessera(["client", "create", "--tenant", "national", "--json", "--name", "Resilience web app", "--redirect-uri", REDIRECT_URI]);
    expect(created.code, created.stderr).toBe(0);
    const { client_id, client_secret } = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
    const keys = await newKeyPair();
    const metadata = path.join(mkdtempSync(path.join(tmpdir(), "tessera-sp-")), "sp.xml");
    writeFileSync(metadata, spMetadata({ certificateBase64: keys.certificateBase64 }));
    expect((await cluster.tessera(["sp", "add", "--tenant", "national", "--metadata", metadata])).code).toBe(0);

    // The demo signer's signing application: a client of the CSC API, her token (her sign-in's SMS
    // codes read where the gateway received them), her credential and its certificate.
    const csc = `${cluster.proxyUrl}/t/pro/csc/v2`;
    const made = await cluster.tessera(["client", "create", "--tenant", "pro", "--json", "--name", "Resilience signer", "--redirect-uri", REDIRECT_URI, "--resource", csc]);
    expect(made.code, made.stderr).toBe(0);
    let used = 0;
    const texted = () => cluster.sms.textsTo(DEMO_SIGNER.mobile);
    const accessToken = await signerAccessToken(
      cluster.proxyUrl,
      JSON.parse(made.stdout) as { client_id: string; client_secret: string },
      csc,
      {
        sent: async () => texted().length,
        // Sent by the outbox a moment after the page asked for it: a code not used yet is awaited.
        async newest(after) {
          const seen = Math.max(after, used);
          await until("the signer's code", () => texted().length > seen);
          used = texted().length;
          return /\b(\d{6})\b/.exec(texted().at(-1)!)![1]!;
        },
      },
      new Browser(cluster.proxyUrl),
    );
    const cscCall = async (method: string, body: object) =>
      (await (await fetch(`${csc}/${method}`, { method: "POST", headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" }, body: JSON.stringify(body) })).json()) as Record<string, unknown>;
    const credentialID = ((await cscCall("credentials/list", {})).credentialIDs as string[])[0]!;
    const certificateDer = Buffer.from(((await cscCall("credentials/info", { credentialID, certificates: "single" })).cert as { certificates: string[] }).certificates[0]!, "base64");

    traffic = new Traffic({
      proxyUrl: cluster.proxyUrl,
      smtp: cluster.smtp,
      sms: cluster.sms,
      client: { id: client_id, secret: client_secret },
      sp: { privateKeyPem: keys.privateKeyPem, sso: `${cluster.proxyUrl}/t/national/saml/sso` },
      identities: IDENTITIES,
      adminToken: ADMIN_TOKEN,
      signer: { csc, accessToken, credentialID, certificateDer, mobile: DEMO_SIGNER.mobile, password: DEMO_SIGNER.password },
      patienceMs: OUTAGE_MS + 150_000,
      runId: randomBytes(3).toString("hex"),
    });
    traffic.start(700);
    await sleep(8000);

    // 1. A node killed in the middle of flows: people go on through the other two.
    let f = fault("node 2 killed (SIGKILL) with requests in hand, started again 10 s later");
    traffic.burst(16);
    await sleep(400);
    expect(await cluster.signal(1, "SIGKILL")).toBeNull();
    await sleep(10_000);
    await cluster.startNode(1);
    await cluster.untilProxyServes();
    f.ended = at();

    // 2. Redis down: rate limits and attempt counters fall back, and say so.
    f = fault("Redis stopped for 15 s");
    await stopRedis();
    await sleep(15_000);
    await startRedis();
    await sleep(3000);
    f.ended = at();
    f.observed.push(`logged by the nodes: ${(cluster.logs().match(/redis unavailable: rate limits counted by each node/g) ?? []).length} fall-backs, ${(cluster.logs().match(/redis is back/g) ?? []).length} recoveries`);
    expect(cluster.logs()).toContain("redis unavailable: rate limits counted by each node");
    expect(cluster.logs()).toContain("redis is back");

    // 3. The SMTP server and SMS gateway down: the outbox keeps every message and sends it after.
    f = fault(`SMTP server and SMS gateway down for ${OUTAGE_MS / 1000} s`);
    await cluster.smtp.stop();
    await cluster.sms.stop();
    await sleep(OUTAGE_MS);
    await cluster.smtp.start();
    await cluster.sms.start();
    f.ended = at();

    // 4. PostgreSQL restarted: every node says it is not ready while it is gone, and recovers by itself.
    f = fault("PostgreSQL stopped for 5 s and started again");
    const pids = cluster.nodes.map((n) => n?.proc.pid);
    await stopPostgres();
    await until("every node to report not ready", async () => (await Promise.all([0, 1, 2].map((i) => status(`${cluster.nodeUrl(i)}/readyz`)))).every((s) => s === 503), 15_000);
    expect((await Promise.all([0, 1, 2].map((i) => status(`${cluster.nodeUrl(i)}/healthz`))))).toEqual([200, 200, 200]);
    f.observed.push("/readyz 503 on all three nodes, /healthz 200");
    await sleep(5000);
    await startPostgres();
    await until("every node ready again", async () => (await Promise.all([0, 1, 2].map((i) => status(`${cluster.nodeUrl(i)}/readyz`)))).every((s) => s === 200), 60_000);
    expect(cluster.nodes.map((n) => n?.proc.pid)).toEqual(pids);
    expect(cluster.alive()).toEqual([true, true, true]);
    f.observed.push("ready again on all three, same processes (none restarted)");
    f.ended = at();
    await sleep(5000);

    // 5. A node stopped with SIGTERM finishes what it has in hand and exits cleanly.
    f = fault("node 3 stopped (SIGTERM) with requests in hand, started again");
    traffic.burst(16);
    await sleep(400);
    expect(await cluster.signal(2, "SIGTERM")).toBe(0);
    f.observed.push("exit status 0");
    await sleep(3000);
    await cluster.startNode(2);
    await cluster.untilProxyServes();
    f.ended = at();

    // 6. A node with another master key refuses to start, and the cluster goes on.
    f = fault("a fourth node started with another master key");
    const wrong = await cluster.startWithOtherKey();
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("is not the one this database was set up with");
    f.observed.push(`refused to start (exit status ${wrong.code})`);
    f.ended = at();

    await sleep(5000);
    const journeys = await traffic.stop();

    // ---- Checks ---------------------------------------------------------------------------
    const report = await check(journeys);
    const text = figures(journeys, faults, report);
    console.log(text);
    if (process.env.TESSERA_CLUSTER_REPORT) writeFileSync(process.env.TESSERA_CLUSTER_REPORT, text);

    // Signing went on through the faults (each session's signatures checked by openssl as it ended).
    expect(journeys.filter((j) => j.kind === "signature" && j.done).length).toBeGreaterThan(0);
    // Nothing lost.
    expect(journeys.filter((j) => !j.done).map((j) => `${j.kind} ${j.who}: ${[...new Set(j.setbacks.map((b) => b.what))].join("; ")}`)).toEqual([]);
    expect(report.outbox).toEqual({ sent: report.outbox.sent });
    // Held through the outage, so some waited about that long; none for long after.
    expect(report.longestWaitSeconds).toBeLessThan(OUTAGE_MS / 1000 + 60);
    // Nothing half-written.
    expect(report.enrolmentsIncomplete).toEqual([]);
    expect(report.audit.code, report.audit.stdout + report.audit.stderr).toBe(0);
    expect(report.audit.stdout).not.toMatch(/broken|tampered|missing/i);
    // Nothing twice.
    expect(report.accountsPerEnrolment.filter(([, n]) => n !== 1)).toEqual([]);
    expect(report.mailsDeliveredTwice).toEqual([]);
    expect(report.mailsMissing).toEqual([]);
    expect(report.smsDeliveredTwice).toEqual([]);
    expect(report.smsMissing).toEqual([]);
    // What people got still works, on every node.
    expect(report.certificatesMissing).toEqual([]);
    expect(report.sessionsRefused).toEqual([]);
    expect(report.tokensRefused).toEqual([]);
    expect(cluster.alive()).toEqual([true, true, true]);
  });

  interface Report {
    outbox: Record<string, number>;
    longestWaitSeconds: number;
    enrolmentsIncomplete: string[];
    accountsPerEnrolment: [string, number][];
    mailsDeliveredTwice: string[];
    mailsMissing: string[];
    smsDeliveredTwice: string[];
    smsMissing: string[];
    audit: { code: number | null; stdout: string; stderr: string };
    sessionsRefused: string[];
    tokensRefused: string[];
    /** Certificates a journey received that the store does not hold (or holds twice). */
    certificatesMissing: string[];
    /** Certificates issued whose answer was lost on the way (the journey then asked again). */
    certificatesUndelivered: number;
  }

  async function check(journeys: Journey[]): Promise<Report> {
    const schema = new URL(databaseUrl).searchParams.get("schema")!;
    const db = new pg.Client({ connectionString: databaseUrl.replace(/\?.*$/, "") });
    await db.connect();
    try {
      await db.query(`set search_path to ${schema}`);
      // Every message queued goes out once the transports are back (their retries at most 10 s apart).
      const waiting = async () => (await db.query<{ n: number }>("select count(*)::int as n from outbox where status in ('pending', 'sending')")).rows[0]!.n;
      // Not drained by then: the messages still waiting are reported with the rest, below.
      await until("the outbox to drain", async () => (await waiting()) === 0, 120_000).catch(() => undefined);
      const outbox = Object.fromEntries((await db.query("select status, count(*)::int as n from outbox where status <> 'decoy' group by status")).rows.map((r: { status: string; n: number }) => [r.status, r.n]));
      const messages = (await db.query("select id, channel, (sent_at - created_at)::float8 / 1000 as waited from outbox where status = 'sent'")).rows as { id: string; channel: string; waited: number }[];

      const enrolled = journeys.filter((j) => j.kind === "enrolment" && j.done).map((j) => j.who);
      const accounts = (await db.query("select identifier, state, email_verified_at, phone_verified_at, fiscal_code from accounts where identifier like '%@resilience.example'")).rows as {
        identifier: string;
        state: string;
        email_verified_at: number | null;
        phone_verified_at: number | null;
        fiscal_code: string | null;
      }[];
      const perEnrolment = new Map(enrolled.map((e) => [e, 0]));
      for (const a of accounts) perEnrolment.set(a.identifier, (perEnrolment.get(a.identifier) ?? 0) + 1);
      const incomplete = accounts
        .filter((a) => a.state !== "awaiting_proofing" || a.email_verified_at === null || a.phone_verified_at === null || a.fiscal_code === null)
        .map((a) => `${a.identifier}: ${a.state}`);

      const mailIds = cluster.smtp.messages.map((m) => m.messageId ?? "");
      const smsRefs = cluster.sms.received.map((r) => (JSON.parse(r.body) as { reference: string }).reference);
      const twice = (ids: string[]) => [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
      const mailsMissing = messages.filter((m) => m.channel === "email" && !mailIds.includes(`<${m.id}@resilience.example>`)).map((m) => m.id);
      const smsMissing = messages.filter((m) => m.channel === "sms" && !smsRefs.includes(m.id)).map((m) => m.id);

      const runCertificates = journeys.filter((j) => j.kind === "certificate");
      const stored = (await db.query<{ serial: string }>("select serial from certificates where tenant_id = 'pro' and subject like $1", [`%${runCertificates[0]?.who.split(" ").slice(0, 2).join(" ") ?? "none"}%`])).rows.map((r) => r.serial);
      const delivered = runCertificates.filter((j) => j.done).map((j) => j.serial!);
      const certificatesMissing = delivered.filter((serial) => stored.filter((s) => s === serial).length !== 1);

      // A session made during the faults is good on every node; an access token at the proxy.
      const sessionsRefused: string[] = [];
      for (const j of journeys.filter((j) => j.kind === "login" && j.done)) {
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${cluster.nodeUrl(i)}/t/national/account`, { headers: { cookie: j.cookie!, accept: "text/html" }, redirect: "manual" });
          await res.arrayBuffer();
          if (res.status !== 200) sessionsRefused.push(`${j.who} on node ${i + 1}: ${res.status}`);
        }
      }
      const tokensRefused: string[] = [];
      for (const j of journeys.filter((j) => j.kind === "oidc" && j.done)) {
        const res = await fetch(`${cluster.proxyUrl}/t/national/oidc/userinfo`, { headers: { authorization: `Bearer ${j.accessToken!}` } });
        await res.arrayBuffer();
        if (res.status !== 200) tokensRefused.push(`${j.who}: ${res.status}`);
      }
      return {
        outbox,
        longestWaitSeconds: Math.round(Math.max(...messages.map((m) => m.waited))),
        enrolmentsIncomplete: incomplete,
        accountsPerEnrolment: [...perEnrolment],
        mailsDeliveredTwice: twice(mailIds),
        mailsMissing,
        smsDeliveredTwice: twice(smsRefs),
        smsMissing,
        audit: await cluster.tessera(["audit", "verify"]),
        sessionsRefused,
        tokensRefused,
        certificatesMissing,
        certificatesUndelivered: stored.length - delivered.length,
      };
    } finally {
      await db.end();
    }
  }

  function figures(journeys: Journey[], faults: Fault[], report: Report): string {
    const all = journeys.flatMap((j) => j.setbacks.map((b) => ({ ...b, kind: j.kind })));
    const seconds = (ms: number) => Math.round((ms - t0) / 1000);
    const kinds = (list: typeof all) => {
      const why = new Map<string, number>();
      for (const b of list) {
        const key = b.what.replace(/https?:\/\/[^/ ]+/g, "").replace(/\?.*$/, "").replace(/[0-9a-f-]{20,}/g, "…").slice(0, 100);
        why.set(key, (why.get(key) ?? 0) + 1);
      }
      return [...why].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} × ${k}`).join("; ") || "none";
    };
    // A setback belongs to the fault under way, or just over (the proxy's checks take a second or two).
    const during = (f: Fault) => {
      const next = faults[faults.indexOf(f) + 1]?.started ?? Number.POSITIVE_INFINITY;
      return all.filter((b) => seconds(b.at) >= f.started && seconds(b.at) < next && seconds(b.at) <= (f.ended ?? f.started) + 3);
    };
    const outside = all.filter((b) => !faults.some((f) => during(f).includes(b)));
    return [
      "",
      "| fault (seconds from the start) | what the test saw | setbacks people met meanwhile |",
      "|---|---|---|",
      ...faults.map((f) => `| ${f.started}–${f.ended ?? "?"} s: ${f.name} | ${f.observed.join("; ") || "—"} | ${kinds(during(f))} |`),
      `| outside the faults | | ${kinds(outside)} |`,
      "",
      "| journey | started | finished | lost | started again | setbacks |",
      "|---|---|---|---|---|---|",
      ...KINDS.map((kind) => {
        const of = journeys.filter((j) => j.kind === kind);
        return `| ${kind} | ${of.length} | ${of.filter((j) => j.done).length} | ${of.filter((j) => !j.done).length} | ${of.reduce((n, j) => n + j.attempts - 1, 0)} | ${of.reduce((n, j) => n + j.setbacks.length, 0)} |`;
      }),
      "",
      `Outbox: ${JSON.stringify(report.outbox)}, the longest wait ${report.longestWaitSeconds} s; e-mails received ${cluster.smtp.messages.length} (twice: ${report.mailsDeliveredTwice.length}, missing: ${report.mailsMissing.length}), SMS received ${cluster.sms.received.length} (twice: ${report.smsDeliveredTwice.length}, missing: ${report.smsMissing.length})`,
      `Accounts: ${report.accountsPerEnrolment.filter(([, n]) => n === 1).length} of ${report.accountsPerEnrolment.length} enrolments have exactly one; incomplete: ${report.enrolmentsIncomplete.length}`,
      `Audit: ${report.audit.stdout.trim().replace(/\n/g, "; ")}`,
      `Certificates: ${report.certificatesMissing.length} delivered but not stored once; ${report.certificatesUndelivered} issued whose answer was lost (asked for again)`,
      `Sessions refused on some node: ${report.sessionsRefused.length}; access tokens refused: ${report.tokensRefused.length}; node starts: ${cluster.starts.join(", ")}`,
      "",
    ].join("\n");
  }
});
