import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openssl, workdir } from "../helpers/pki.ts";
import { afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT, runTessera, type Spawned, spawnProcess, spawnTessera } from "../helpers/process.ts";

const running: Spawned[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

const LISTENING = /Tessera listening on (http:\/\/\S+)\n((?: {2}\S+ {2}.+\n){3})/;

// Each start with --demo makes two CA hierarchies (RSA-4096 and RSA-3072 keys): seconds each.
describe("tessera start --demo on a fresh machine", { timeout: 90_000 }, () => {
  it("creates ./data with the database and a private master key, seeds three tenants and serves them", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "tessera-start-"));
    const server = spawnTessera(["start", "--demo", "--port", "0"], { cwd });
    running.push(server);
    const [, baseUrl, lines] = await server.waitFor(LISTENING);

    expect(existsSync(path.join(cwd, "data", "tessera.db"))).toBe(true);
    expect(statSync(path.join(cwd, "data", "tessera.db")).mode & 0o077).toBe(0);
    expect(statSync(path.join(cwd, "data", "master.key")).mode & 0o777).toBe(0o600);
    const key = readFileSync(path.join(cwd, "data", "master.key"), "utf8").trim();
    expect(Buffer.from(key, "base64")).toHaveLength(32);

    const urls = lines!.trim().split("\n").map((l) => l.trim().split(/\s+/)[0]);
    expect(urls).toEqual(["national", "pro", "university"].map((id) => `${baseUrl}/t/${id}/`));
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${baseUrl}/readyz`)).json()).toEqual({ status: "ok" });
    for (const url of urls) {
      const res = await fetch(url!, { headers: { accept: "text/html" } });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("<!doctype html>");
    }
    // The demo's trust services: national and pro have a CA hierarchy of the default strength.
    for (const tenant of ["national", "pro"]) {
      const dir = workdir({ "chain.pem": Buffer.from(await (await fetch(`${baseUrl}/t/${tenant}/pki/chain.pem`)).arrayBuffer()) });
      await openssl(["x509", "-in", "chain.pem", "-out", "issuing.pem"], { cwd: dir });
      expect((await openssl(["verify", "-CAfile", "chain.pem", "issuing.pem"], { cwd: dir })).stdout, tenant).toContain("issuing.pem: OK");
      const text = (await openssl(["crl2pkcs7", "-nocrl", "-certfile", "chain.pem"], { cwd: dir })).stdout;
      const printed = (await openssl(["pkcs7", "-print_certs", "-text", "-noout"], { cwd: dir, input: Buffer.from(text) })).stdout;
      expect(printed).toContain("Public-Key: (4096 bit)");
      expect(printed).toContain("Public-Key: (3072 bit)");
    }
    expect((await fetch(`${baseUrl}/t/university/pki/chain.pem`)).status).toBe(404);
    // The key is a secret: it must not appear in anything the server printed.
    expect(server.stdout() + server.stderr()).not.toContain(key);

    expect(await server.stop()).toBe(0);

    // A second start finds everything in place and creates nothing twice.
    const again = spawnTessera(["start", "--demo", "--port", "0"], { cwd });
    running.push(again);
    await again.waitFor(LISTENING);
    await again.stop();
    const audit = await runTessera(["audit", "verify"], { cwd });
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/^national: intact, \d+ entries\npro: intact, \d+ entries\nuniversity: intact, \d+ entries\n$/);
    // Nothing was seeded twice: the second start found every tenant and identity in place.
    expect((await runTessera(["tenant", "list"], { cwd })).stdout.trim().split("\n")).toHaveLength(4);
  });

  it("seeds nothing without --demo", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "tessera-start-"));
    const server = spawnTessera(["start", "--port", "0"], { cwd });
    running.push(server);
    const [, baseUrl] = await server.waitFor(/Tessera listening on (http:\/\/\S+)\n/);
    expect((await fetch(`${baseUrl}/t/national/`)).status).toBe(404);
    await server.stop();
    expect((await runTessera(["tenant", "list"], { cwd })).stdout).toBe("ID  LOCALES  IDENTIFIER  NAME\n");
  });

  it("is what `npm start` runs", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-npm-"));
    const npm = spawnProcess("npm", ["start", "--silent", "--", "--port", "0", "--data-dir", dataDir], { cwd: REPO_ROOT });
    running.push(npm);
    const [, baseUrl] = await npm.waitFor(LISTENING, 30_000);
    expect((await fetch(`${baseUrl}/t/university/`)).status).toBe(200);
    expect(existsSync(path.join(dataDir, "tessera.db"))).toBe(true);
  });
});

describe("tessera start refuses bad settings", () => {
  it.each([
    [["--port", "eighty"], {}, "tessera: invalid setting port from --port: "],
    [[], { TESSERA_HOST: "" , TESSERA_DATABASE_URL: "oracle://db" }, "tessera: invalid setting databaseUrl from TESSERA_DATABASE_URL"],
    [[], { TESSERA_MASTER_KEY: "dG9vLXNob3J0" }, "tessera: invalid setting masterKey from TESSERA_MASTER_KEY: must be 32 bytes"],
  ])("%j %j: exit 2 with a message naming the setting", async (args, env, message) => {
    const cwd = mkdtempSync(path.join(tmpdir(), "tessera-bad-"));
    const { code, stderr, stdout } = await runTessera(["start", ...args], { cwd, env });
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stdout).not.toContain("listening");
    expect(stderr).not.toContain("dG9vLXNob3J0");
  });

  it("stops with exit 2 when the master key is not the database's", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "tessera-key-"));
    const first = spawnTessera(["start", "--port", "0"], { cwd, env: { TESSERA_MASTER_KEY: randomBytes(32).toString("base64") } });
    running.push(first);
    await first.waitFor(/listening/);
    await first.stop();
    const second = await runTessera(["start", "--port", "0"], { cwd, env: { TESSERA_MASTER_KEY: randomBytes(32).toString("base64") } });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain("the master key from TESSERA_MASTER_KEY is not the one this database was set up with");
  });

  it("exits 1 with a clear message when the database cannot be reached", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "tessera-nodb-"));
    const { code, stderr } = await runTessera(["start", "--port", "0", "--database-url", "postgres://nobody:pw@127.0.0.1:1/none"], { cwd });
    expect(code).toBe(1);
    expect(stderr).toContain("tessera: database migration failed");
    expect(stderr).not.toContain(":pw@");
  });
});
