/**
 * Several Tessera nodes on one PostgreSQL database behind HAProxy (examples/cluster/haproxy.cfg,
 * the configuration docs/operations.md describes), sharing Redis, sending e-mail to a loopback
 * SMTP server and SMS to a loopback HTTP gateway, each of which a test can take down and bring
 * back; nodes can be killed (SIGKILL, SIGTERM) and started again on their own port.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startSmtpServer, type TestSmtpServer } from "../helpers/mail.ts";
import { REPO_ROOT, runTessera, type Spawned, spawnProcess, spawnTessera } from "../helpers/process.ts";
import { startSmsGateway, type TestSmsGateway } from "../helpers/sms-gateway.ts";

const run = promisify(execFile);
export const HAPROXY_CONFIG = path.join(REPO_ROOT, "examples/cluster/haproxy.cfg");
export const ADMIN_TOKEN = "resilience-admin-token-0123456789abcdef";
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `check` every 100 ms until it holds; fails with `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function status(url: string, timeoutMs = 2000): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

export interface ClusterOptions {
  databaseUrl: string;
  redisUrl: string;
  nodes: number;
  /** Settings for every node, as TESSERA_* variables. */
  env?: Record<string, string>;
}

export class Cluster {
  readonly nodes: (Spawned | undefined)[];
  /** How many times each node was started. */
  readonly starts: number[];
  readonly masterKey = randomBytes(32).toString("base64");
  private readonly everStarted: Spawned[] = [];

  private constructor(
    readonly options: ClusterOptions,
    readonly proxyUrl: string,
    readonly ports: number[],
    readonly smtp: TestSmtpServer,
    readonly sms: TestSmsGateway,
    private readonly proxy: Spawned,
  ) {
    this.nodes = ports.map(() => undefined);
    this.starts = ports.map(() => 0);
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const smtp = await startSmtpServer();
    const sms = await startSmsGateway();
    const proxyPort = await freePort();
    const ports: number[] = [];
    for (let i = 0; i < options.nodes; i++) ports.push(await freePort());
    const proxy = spawnProcess("haproxy", ["-db", "-f", HAPROXY_CONFIG], {
      env: { TESSERA_PROXY_BIND: `127.0.0.1:${proxyPort}`, ...Object.fromEntries(ports.map((p, i) => [`TESSERA_NODE_${i + 1}`, `127.0.0.1:${p}`])) },
    });
    const cluster = new Cluster(options, `http://127.0.0.1:${proxyPort}`, ports, smtp, sms, proxy);
    try {
      // The first node migrates and seeds the demo tenants; the others then start together.
      await cluster.startNode(0);
      await Promise.all(ports.slice(1).map((_, i) => cluster.startNode(i + 1)));
      await cluster.untilProxyServes();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  nodeUrl(i: number): string {
    return `http://127.0.0.1:${this.ports[i]}`;
  }

  /** Every node's settings: the proxy's address as the public one, codes sent for real. */
  nodeEnv(i: number, masterKey = this.masterKey): NodeJS.ProcessEnv {
    return {
      TESSERA_PORT: String(this.ports[i] ?? 0),
      TESSERA_HOST: "127.0.0.1",
      TESSERA_DATABASE_URL: this.options.databaseUrl,
      TESSERA_REDIS_URL: this.options.redisUrl,
      TESSERA_BASE_URL: this.proxyUrl,
      TESSERA_TRUST_PROXY: "1",
      TESSERA_MASTER_KEY: masterKey,
      TESSERA_DEV_MODE: "off",
      TESSERA_LOG_LEVEL: "warn",
      TESSERA_ADMIN_TOKEN: ADMIN_TOKEN,
      TESSERA_SMTP_URL: `smtp://tessera:s3cret@127.0.0.1:${this.smtp.port}`,
      TESSERA_MAIL_FROM: "Tessera ID <no-reply@resilience.example>",
      TESSERA_SMS_GATEWAY_URL: this.sms.url,
      // The message's own id travels as the gateway's client reference: how the test counts deliveries.
      TESSERA_SMS_GATEWAY_BODY: '{"to":"{{to}}","text":"{{text}}","reference":"{{id}}"}',
      ...this.options.env,
    };
  }

  async startNode(i: number): Promise<void> {
    const node = spawnTessera(["start", "--demo"], { cwd: mkdtempSync(path.join(tmpdir(), "tessera-node-")), env: this.nodeEnv(i) });
    this.nodes[i] = node;
    this.everStarted.push(node);
    this.starts[i]!++;
    await node.waitFor(/Tessera listening on /, 120_000);
  }

  /** Starts an extra node with another master key: it must refuse to start. */
  async startWithOtherKey(): Promise<{ code: number | null; stderr: string }> {
    const node = spawnTessera(["start"], { cwd: mkdtempSync(path.join(tmpdir(), "tessera-node-")), env: { ...this.nodeEnv(-1, randomBytes(32).toString("base64")), TESSERA_PORT: "0" } });
    const code = await node.exited;
    return { code, stderr: node.stderr() };
  }

  /** Sends `signal` to node `i` (and only its process) and waits for it to exit. */
  async signal(i: number, signal: "SIGKILL" | "SIGTERM"): Promise<number | null> {
    const node = this.nodes[i];
    if (!node) throw new Error(`node ${i} is not running`);
    process.kill(node.proc.pid!, signal);
    const code = await node.exited;
    this.nodes[i] = undefined;
    return code;
  }

  /** Each running node's process is the one the test started (none restarted itself). */
  alive(): boolean[] {
    return this.nodes.map((n) => n !== undefined && n.proc.exitCode === null && n.proc.signalCode === null);
  }

  /** Waits until HAProxy's health checks see every running node ready (rise 2 × 500 ms). */
  async untilProxyServes(): Promise<void> {
    const running = this.ports.map((_, i) => i).filter((i) => this.nodes[i]);
    await until("every node ready", async () => (await Promise.all(running.map((i) => status(`${this.nodeUrl(i)}/readyz`)))).every((s) => s === 200), 60_000);
    await until("the proxy to answer", async () => (await status(`${this.proxyUrl}/readyz`)) === 200);
    await sleep(1500);
  }

  async tessera(args: string[]) {
    return runTessera([...args, "--database-url", this.options.databaseUrl], { env: { TESSERA_MASTER_KEY: this.masterKey } });
  }

  /** What every node process started so far has logged (warnings and errors). */
  logs(): string {
    return this.everStarted.map((n) => n.stdout() + n.stderr()).join("\n");
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => n !== undefined).map((n) => n.stop()));
    await this.proxy.stop();
    await this.smtp.stop().catch(() => {});
    await this.sms.stop().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// The machine's own services, stopped and started as an operator (or a failure) would.

const PG_VERSION = async () => (await run("ls", ["/etc/postgresql"])).stdout.trim().split("\n")[0]!;

export async function stopPostgres(): Promise<void> {
  await run("pg_ctlcluster", ["--skip-systemctl-redirect", await PG_VERSION(), "main", "stop", "-m", "fast"]);
}

export async function startPostgres(): Promise<void> {
  await run("pg_ctlcluster", ["--skip-systemctl-redirect", await PG_VERSION(), "main", "start"]);
}

export async function stopRedis(): Promise<void> {
  await run("redis-cli", ["-h", "127.0.0.1", "shutdown", "nosave"]).catch(() => {});
}

/** As .ci/run starts it: nothing kept on disk. */
export async function startRedis(): Promise<void> {
  await run("redis-server", ["--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no"]);
  await until("redis to answer", async () => (await run("redis-cli", ["-h", "127.0.0.1", "ping"])).stdout.trim() === "PONG");
}
