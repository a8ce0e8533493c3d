import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { initPki } from "../../src/pki/authorities.ts";
import { issueCertificate } from "../../src/pki/issuance.ts";
import { revokeCertificate } from "../../src/pki/revocation.ts";
import { createSecrets } from "../../src/shared/crypto/secrets.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { ANE, EC_ALGORITHMS, openssl, setPkiPolicy, subjectKey, workdir } from "../helpers/pki.ts";
import { fakeClock, freshPgSchemaUrl, pgUrl } from "../helpers/stores.ts";

const BY = { actor: "test" };
const apps: TestApp[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) {
    await a.app.close();
    await a.store.close();
  }
});

const databases = [
  ["SQLite (one file, two connections)", async () => `sqlite:${path.join(tmpdir(), `tessera-pki-${randomBytes(4).toString("hex")}.db`)}`],
  ...(pgUrl ? ([["PostgreSQL", freshPgSchemaUrl]] as const) : []),
] as const;

/** Two nodes on one database: their own stores, PKI runtimes and caches; the same master key and clock. */
async function twoNodes(databaseUrl: string): Promise<[TestApp, TestApp]> {
  const secrets = createSecrets(randomBytes(32));
  const clock = fakeClock(Date.now());
  const a = await testApp({}, { databaseUrl, secrets, clock });
  const b = await testApp({}, { databaseUrl, secrets, clock });
  apps.push(a, b);
  await setPkiPolicy(a.store, "pro", { algorithms: EC_ALGORITHMS });
  return [a, b];
}

const tenantUrl = "http://localhost/t/pro";

for (const [name, database] of databases) {
  describe(`the PKI on several nodes: ${name}`, () => {
    // Two writers at the same moment: PostgreSQL's case. (Two SQLite connections in one process
    // block each other's event loop while one waits for the other's write lock: a deadlock that
    // says nothing about SQLite, which serves one node.)
    it.runIf(name === "PostgreSQL")("is set up once when two nodes start it together", async () => {
      const [a, b] = await twoNodes(await database());
      const tenant = await setPkiPolicy(a.store, "pro", {});
      const [one, two] = await Promise.all([initPki(a.deps, tenant, tenantUrl, BY), initPki(b.deps, tenant, tenantUrl, BY)]);
      expect([one.created, two.created].filter(Boolean)).toHaveLength(1);
      expect(one.hierarchy.root.serial).toBe(two.hierarchy.root.serial);
      expect(await a.store.db.selectFrom("pki_authorities").select("role").execute()).toHaveLength(4);
      // The loser's keys are gone: only the hierarchy's four are in the store.
      expect(await a.store.db.selectFrom("pki_keys").select("id").execute()).toHaveLength(4);
    });

    it("answers revoked on the other node from the moment a revocation commits, in OCSP and in the CRL", async () => {
      const [a, b] = await twoNodes(await database());
      const tenant = await setPkiPolicy(a.store, "pro", {});
      await initPki(a.deps, tenant, tenantUrl, BY);
      const issued = await issueCertificate(a.deps, tenant, tenantUrl, { profile: "qualified-signing", subject: ANE, publicKey: subjectKey().spki }, BY);
      const dir = workdir({ "leaf.pem": issued.pem, "chain.pem": Buffer.from((await b.app.inject({ url: "/t/pro/pki/chain.pem" })).rawPayload) });
      await openssl(["x509", "-in", "chain.pem", "-out", "issuing.pem"], { cwd: dir });
      await openssl(["ocsp", "-issuer", "issuing.pem", "-cert", "leaf.pem", "-no_nonce", "-reqout", "req.der"], { cwd: dir });
      const askB = async () => {
        const reply = await b.app.inject({ method: "POST", url: "/t/pro/pki/ocsp", headers: { "content-type": "application/ocsp-request" }, payload: readFileSync(path.join(dir, "req.der")) });
        writeFileSync(path.join(dir, "resp.der"), Buffer.from(reply.rawPayload));
        return (await openssl(["ocsp", "-reqin", "req.der", "-respin", "resp.der", "-CAfile", "chain.pem", "-resp_text"], { cwd: dir })).stdout;
      };
      // B has answered (and signed ahead) "good" before the revocation.
      expect(await askB()).toContain("Cert Status: good");
      await revokeCertificate(a.deps, tenant, { serial: issued.serial, reason: "keyCompromise" }, BY);
      expect(await askB()).toContain("Cert Status: revoked");
      writeFileSync(path.join(dir, "crl.der"), Buffer.from((await b.app.inject({ url: "/t/pro/pki/crl" })).rawPayload));
      await openssl(["crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem"], { cwd: dir });
      const verified = await openssl(["verify", "-crl_check", "-CAfile", "chain.pem", "-CRLfile", "crl.pem", "leaf.pem"], { cwd: dir });
      expect(verified.stdout + verified.stderr).toContain("certificate revoked");
    });

    it.runIf(name === "PostgreSQL")("numbers CRLs in one sequence and time-stamps in one series, whichever node signs", async () => {
      const [a, b] = await twoNodes(await database());
      const tenant = await setPkiPolicy(a.store, "pro", {});
      const { hierarchy } = await initPki(a.deps, tenant, tenantUrl, BY);
      const issued = await Promise.all(Array.from({ length: 6 }, () => issueCertificate(a.deps, tenant, tenantUrl, { profile: "tls-client", subject: ANE, publicKey: subjectKey().spki }, BY)));
      await Promise.all(issued.map((c, i) => revokeCertificate((i % 2 ? a : b).deps, tenant, { serial: c.serial, reason: "superseded" }, BY)));
      // The first CRL, then one per revocation: seven numbers, none twice.
      const numbers = (await a.store.db.selectFrom("crls").select("number").where("issuer_id", "=", hierarchy.issuing.id).orderBy("number").execute()).map((c) => c.number);
      expect(numbers).toEqual([1, 2, 3, 4, 5, 6, 7]);
      // The newest CRL lists all six.
      const dir = workdir({ "crl.der": Buffer.from((await a.app.inject({ url: "/t/pro/pki/crl" })).rawPayload) });
      const text = (await openssl(["crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text"], { cwd: dir })).stdout;
      for (const c of issued) expect(text).toContain(`Serial Number: ${c.serial.toUpperCase()}`);

      writeFileSync(path.join(dir, "doc"), "x");
      await openssl(["ts", "-query", "-data", "doc", "-sha256", "-out", "q.tsq"], { cwd: dir });
      const query = readFileSync(path.join(dir, "q.tsq"));
      const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).app.inject({ method: "POST", url: "/t/pro/pki/tsa", headers: { "content-type": "application/timestamp-query" }, payload: query })));
      const serials = [];
      for (const [i, reply] of replies.entries()) {
        writeFileSync(path.join(dir, `r${i}.tsr`), Buffer.from(reply.rawPayload));
        serials.push(/Serial number: (0x[0-9A-F]+)/.exec((await openssl(["ts", "-reply", "-in", `r${i}.tsr`, "-text"], { cwd: dir })).stdout)![1]);
      }
      expect(new Set(serials).size).toBe(8);
    });
  });
}
