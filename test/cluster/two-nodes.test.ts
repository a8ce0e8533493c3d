import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { demoIdentities } from "../../src/demo/identities.ts";
import { runTessera, type Spawned, spawnTessera } from "../helpers/process.ts";
import { freshPgSchemaUrl, pgUrl } from "../helpers/stores.ts";

const running: Spawned[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

function startNode(databaseUrl: string, masterKey: string, extra: string[] = []) {
  const node = spawnTessera(["start", "--port", "0", "--database-url", databaseUrl, ...extra], {
    cwd: mkdtempSync(path.join(tmpdir(), "tessera-node-")),
    env: { TESSERA_MASTER_KEY: masterKey, TESSERA_LOG_LEVEL: "warn" },
  });
  running.push(node);
  return node;
}

async function baseUrlOf(node: Spawned): Promise<string> {
  return (await node.waitFor(/Tessera listening on (http:\/\/\S+)\n/))[1]!;
}

describe.skipIf(!pgUrl)("several nodes on one PostgreSQL database", { timeout: 90_000 }, () => {
  it("start together, serve the same tenants, and see each other's changes at once", async () => {
    const databaseUrl = await freshPgSchemaUrl();
    const masterKey = randomBytes(32).toString("base64");
    // Both run the migrations and the demo seeding at the same moment.
    const nodes = [startNode(databaseUrl, masterKey, ["--demo"]), startNode(databaseUrl, masterKey, ["--demo"])];
    const [a, b] = await Promise.all(nodes.map(baseUrlOf));
    expect(a).not.toBe(b);

    for (const base of [a, b]) {
      for (const tenant of ["national", "university", "pro"]) {
        expect((await fetch(`${base}/t/${tenant}/`)).status, `${base} ${tenant}`).toBe(200);
      }
      expect((await fetch(`${base}/t/acme/`)).status).toBe(404);
    }

    const created = await runTessera(["tenant", "create", "acme", "--name", "ACME", "--locale", "en", "--database-url", databaseUrl]);
    expect(created.code).toBe(0);
    for (const base of [a, b]) expect((await fetch(`${base}/t/acme/`)).status).toBe(200);

    // Each demo tenant and identity was created exactly once, and every chain is intact.
    const audit = await runTessera(["audit", "verify", "--database-url", databaseUrl]);
    expect(audit).toMatchObject({ code: 0 });
    expect(audit.stdout).toMatch(/^acme: intact, 1 entry\nnational: intact, \d+ entries\npro: intact, \d+ entries\nuniversity: intact, \d+ entries\n$/);
    const admin = new pg.Client({ connectionString: databaseUrl.replace(/\?.*$/, "") });
    await admin.connect();
    const schema = new URL(databaseUrl).searchParams.get("schema");
    const { rows } = await admin.query(`select tenant_id, count(*)::int as n from ${schema}.accounts group by tenant_id order by tenant_id`);
    await admin.end();
    // Every demo identity once, though both nodes seeded at the same moment (national: a citizen,
    // a shop customer and four staff).
    const seeded = demoIdentities.reduce<Record<string, number>>((n, d) => ({ ...n, [d.tenant]: (n[d.tenant] ?? 0) + 1 }), {});
    expect(seeded.national).toBe(6);
    expect(rows).toEqual(Object.entries(seeded).sort().map(([tenant_id, n]) => ({ tenant_id, n })));
    // And one PKI per tenant that has one, though both nodes set it up at once.
    const pki = new pg.Client({ connectionString: databaseUrl.replace(/\?.*$/, "") });
    await pki.connect();
    const authorities = await pki.query(`select tenant_id, count(*)::int as n from ${schema}.pki_authorities group by tenant_id order by tenant_id`);
    await pki.end();
    expect(authorities.rows).toEqual([
      { tenant_id: "national", n: 4 },
      { tenant_id: "pro", n: 4 },
    ]);
  });

  it("refuse a node whose master key differs from the first node's", async () => {
    const databaseUrl = await freshPgSchemaUrl();
    const first = startNode(databaseUrl, randomBytes(32).toString("base64"));
    await baseUrlOf(first);
    const other = startNode(databaseUrl, randomBytes(32).toString("base64"));
    expect(await other.exited).toBe(2);
    expect(other.stderr()).toContain("is not the one this database was set up with");
  });

  it("report not ready (503) when the database is gone, and ready again when it is back", async () => {
    const name = `tessera_gone_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: pgUrl! });
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
      const url = new URL(pgUrl!);
      url.pathname = `/${name}`;
      const node = startNode(url.toString(), randomBytes(32).toString("base64"), ["--demo"]);
      const base = await baseUrlOf(node);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);

      await admin.query(`drop database ${name} with (force)`);
      const gone = await fetch(`${base}/readyz`);
      expect(gone.status).toBe(503);
      expect(await gone.json()).toMatchObject({ status: "unavailable" });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);

      await admin.query(`create database ${name}`);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
