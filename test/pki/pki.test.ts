import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { KeyAlgorithm } from "../../src/pki/algorithms.ts";
import { initPki } from "../../src/pki/authorities.ts";
import type { SubjectName } from "../../src/pki/names.ts";
import { issueCertificate } from "../../src/pki/issuance.ts";
import { revokeCertificate } from "../../src/pki/revocation.ts";
import { listeningApp, type TestApp, testApp } from "../helpers/app.ts";
import { ANE, EC_ALGORITHMS, openssl, qcStatementsOf, setPkiPolicy, subjectKey, workdir } from "../helpers/pki.ts";

const BY = { actor: "test" };

let t: TestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
  t = undefined;
});

async function setUp(algorithms: { root: KeyAlgorithm; issuing: KeyAlgorithm; ocsp: KeyAlgorithm; tsa: KeyAlgorithm } = EC_ALGORITHMS) {
  const app = await listeningApp();
  t = app.t;
  const tenant = await setPkiPolicy(t.store, "pro", { algorithms });
  const tenantUrl = `${app.base}/t/pro`;
  const { hierarchy } = await initPki(t.deps, tenant, tenantUrl, BY);
  const get = async (p: string) => Buffer.from((await t!.app.inject({ url: `/t/pro/pki/${p}` })).rawPayload);
  const dir = workdir({ "chain.pem": await get("chain.pem"), "issuing.der": await get("issuing.crt") });
  await openssl(["x509", "-inform", "DER", "-in", "issuing.der", "-out", "issuing.pem"], { cwd: dir });
  const issue = async (profile: "qualified-signing" | "tls-client" = "qualified-signing", subject: SubjectName = ANE) => {
    const key = subjectKey();
    const issued = await issueCertificate(t!.deps, tenant, tenantUrl, { profile, subject, publicKey: key.spki }, BY);
    const file = `leaf-${issued.serial}.pem`;
    writeFileSync(path.join(dir, file), issued.pem);
    return { ...issued, file };
  };
  return { tenant, tenantUrl, hierarchy, dir, issue, base: app.base };
}

const ocspUrl = (tenantUrl: string) => `${tenantUrl}/pki/ocsp`;

describe("a tenant's PKI, as OpenSSL sees it", () => {
  it("issues a qualified certificate that chains to the tenant's root, with the ETSI subject, policies and QcStatements", async () => {
    const { dir, issue, tenantUrl } = await setUp();
    const leaf = await issue();
    expect((await openssl(["verify", "-CAfile", "chain.pem", leaf.file], { cwd: dir })).stdout).toContain(": OK");

    const text = (await openssl(["x509", "-in", leaf.file, "-noout", "-text", "-nameopt", "RFC2253"], { cwd: dir })).stdout;
    expect(text).toContain("Subject: CN=ANE ETXEBERRIA GARAY,serialNumber=IDCES-12345678Z,GN=Ane,SN=Etxeberria Garay,organizationIdentifier=VATES-B12345674,O=Ejemplo Ingenier");
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Non Repudiation\n/);
    expect(text).toContain("Policy: 0.4.0.194112.1.2");
    expect(text).toContain(`URI:${tenantUrl}/pki/crl`);
    expect(text).toContain(`OCSP - URI:${tenantUrl}/pki/ocsp`);
    expect(text).toContain(`CA Issuers - URI:${tenantUrl}/pki/issuing.crt`);
    // OpenSSL 3.0 prints QcStatements raw: the statement identifiers are read from the extension's DER.
    const der = (await openssl(["x509", "-in", leaf.file, "-outform", "DER"], { cwd: dir, input: undefined })).stdout;
    expect(der.length).toBeGreaterThan(0);
    const parsed = await qcStatementsOf(dir, leaf.file);
    for (const oid of ["0.4.0.1862.1.1", "0.4.0.1862.1.4", "0.4.0.1862.1.6", "0.4.0.1862.1.6.1", "0.4.0.1862.1.5", "0.4.0.194121.1.1"]) expect(parsed).toContain(oid);
    expect(parsed).toContain(`${tenantUrl}/pki/pds`);
  });

  it("issues a TLS client certificate (CNS-like) for client authentication", async () => {
    const { dir, issue } = await setUp();
    const leaf = await issue("tls-client", { country: "IT", commonName: "MARIO ROSSI", givenName: "Mario", surname: "Rossi", serialNumber: "TINIT-RSSMRA80A01H501U" });
    expect((await openssl(["verify", "-purpose", "sslclient", "-CAfile", "chain.pem", leaf.file], { cwd: dir })).stdout).toContain(": OK");
    const text = (await openssl(["x509", "-in", leaf.file, "-noout", "-text"], { cwd: dir })).stdout;
    expect(text).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication/);
    expect(text).not.toContain("qcStatements");
  });

  it("revokes at once: the CRL served lists it with its reason, under a higher CRL number, and openssl verify -crl_check refuses it", async () => {
    const { dir, issue, tenant } = await setUp();
    const leaf = await issue();
    const other = await issue();
    const crlNumber = async () => {
      writeFileSync(path.join(dir, "crl.der"), Buffer.from((await t!.app.inject({ url: "/t/pro/pki/crl" })).rawPayload));
      const text = (await openssl(["crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text"], { cwd: dir })).stdout;
      return { text, number: Number(/X509v3 CRL Number:\s+(\d+)/.exec(text)![1]) };
    };
    const before = await crlNumber();
    await revokeCertificate(t!.deps, tenant, { serial: leaf.serial, reason: "keyCompromise" }, BY);
    const after = await crlNumber();
    expect(after.number).toBeGreaterThan(before.number);
    expect(after.text).toContain(`Serial Number: ${leaf.serial.toUpperCase()}`);
    expect(after.text).toMatch(/CRL Reason Code:\s+Key Compromise/);
    expect(after.text).not.toContain(other.serial.toUpperCase());
    writeFileSync(path.join(dir, "crl.pem"), Buffer.from((await t!.app.inject({ url: "/t/pro/pki/crl.pem" })).rawPayload));
    const refused = await openssl(["verify", "-crl_check", "-CAfile", "chain.pem", "-CRLfile", "crl.pem", leaf.file], { cwd: dir });
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain("certificate revoked");
    expect((await openssl(["verify", "-crl_check", "-CAfile", "chain.pem", "-CRLfile", "crl.pem", other.file], { cwd: dir })).stdout).toContain(": OK");
    // The whole chain, the issuing CA against the root's CRL too.
    writeFileSync(path.join(dir, "root.crl"), Buffer.from((await t!.app.inject({ url: "/t/pro/pki/root.crl" })).rawPayload));
    await openssl(["crl", "-inform", "DER", "-in", "root.crl", "-out", "root-crl.pem"], { cwd: dir });
    expect((await openssl(["verify", "-crl_check_all", "-CAfile", "chain.pem", "-CRLfile", "crl.pem", "-CRLfile", "root-crl.pem", other.file], { cwd: dir })).stdout).toContain(": OK");
    // Twice is an error, and so is a serial the tenant never issued; the audit log has the one revocation.
    await expect(revokeCertificate(t!.deps, tenant, { serial: leaf.serial, reason: "superseded" }, BY)).rejects.toMatchObject({ code: "pki.already_revoked" });
    await expect(revokeCertificate(t!.deps, tenant, { serial: "0123456789abcdef", reason: "superseded" }, BY)).rejects.toMatchObject({ code: "pki.unknown_certificate" });
    expect(await t!.store.db.selectFrom("audit_entries").select("data").where("type", "=", "certificate.revoked").execute()).toHaveLength(1);
  });

  it("answers OCSP for openssl: good with the nonce echoed, then revoked with time and reason, and unknown for a serial never issued", async () => {
    const { dir, issue, tenant, tenantUrl } = await setUp();
    const leaf = await issue();
    const ask = (...args: string[]) => openssl(["ocsp", "-issuer", "issuing.pem", "-url", ocspUrl(tenantUrl), "-CAfile", "chain.pem", "-resp_text", ...args], { cwd: dir });
    const good = await ask("-cert", leaf.file);
    expect(good.stderr).toContain("Response verify OK");
    expect(good.stdout).toContain(`${leaf.file}: good`);
    // openssl sends a nonce and checks the response echoes it ("Nonce Verify error" otherwise).
    expect(good.stdout).toContain("OCSP Nonce");
    expect(good.stderr + good.stdout).not.toContain("Nonce Verify error");

    await revokeCertificate(t!.deps, tenant, { serial: leaf.serial, reason: "affiliationChanged" }, BY);
    const revoked = await ask("-cert", leaf.file);
    expect(revoked.stderr).toContain("Response verify OK");
    expect(revoked.stdout).toContain(`${leaf.file}: revoked`);
    expect(revoked.stdout).toMatch(/Reason: affiliationChanged/);
    expect(revoked.stdout).toMatch(/Revocation Time: /);

    const unknown = await ask("-serial", "0x0123456789ABCDEF");
    expect(unknown.stdout).toContain("0x0123456789ABCDEF: unknown");
  });

  it("signs a status once: requests without a nonce get the response signed ahead until the status changes", async () => {
    const { dir, issue, tenant, tenantUrl } = await setUp();
    const leaf = await issue();
    await openssl(["ocsp", "-issuer", "issuing.pem", "-cert", leaf.file, "-no_nonce", "-reqout", "req.der"], { cwd: dir });
    const post = async () => {
      const reply = await t!.app.inject({ method: "POST", url: "/t/pro/pki/ocsp", headers: { "content-type": "application/ocsp-request" }, payload: (await import("node:fs")).readFileSync(path.join(dir, "req.der")) });
      expect(reply.headers["content-type"]).toBe("application/ocsp-response");
      return Buffer.from(reply.rawPayload);
    };
    const first = await post();
    t!.clock.advance(60_000);
    const second = await post();
    expect(second.equals(first)).toBe(true);
    // The GET form of RFC 6960 Appendix A gets the same.
    const encoded = encodeURIComponent((await import("node:fs")).readFileSync(path.join(dir, "req.der")).toString("base64"));
    expect(Buffer.from((await t!.app.inject({ url: `/t/pro/pki/ocsp/${encoded}` })).rawPayload).equals(first)).toBe(true);

    await revokeCertificate(t!.deps, tenant, { serial: leaf.serial, reason: "keyCompromise" }, BY);
    const third = await post();
    expect(third.equals(first)).toBe(false);
    writeFileSync(path.join(dir, "third.der"), third);
    const checked = await openssl(["ocsp", "-reqin", "req.der", "-respin", "third.der", "-CAfile", "chain.pem", "-resp_text"], { cwd: dir });
    expect(checked.stderr).toContain("Response verify OK");
    expect(checked.stdout).toContain("Cert Status: revoked");
    // Past the refresh period, a new one is signed for the same status.
    t!.clock.advance(tenant.policy.pki.ocsp.refreshMinutes * 60_000 + 1);
    expect((await post()).equals(third)).toBe(false);
    void tenantUrl;
  });

  it("answers what is not an OCSP request with malformedRequest, never an error page", async () => {
    await setUp();
    for (const payload of [Buffer.from("garbage"), Buffer.alloc(0), Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])]) {
      const reply = await t!.app.inject({ method: "POST", url: "/t/pro/pki/ocsp", headers: { "content-type": "application/ocsp-request" }, payload });
      expect(reply.statusCode, reply.body).toBe(200);
      const dir = workdir({ "resp.der": Buffer.from(reply.rawPayload) });
      expect((await openssl(["ocsp", "-respin", "resp.der", "-resp_text", "-noverify"], { cwd: dir })).stdout + "").toMatch(/malformedrequest \(1\)/i);
    }
    // GET: a path that is base64 of something else is malformed too; one that is not even a URL is the router's 400.
    const get = await t!.app.inject({ url: `/t/pro/pki/ocsp/${encodeURIComponent(Buffer.from("not a request").toString("base64"))}` });
    expect(get.statusCode).toBe(200);
    expect(get.headers["content-type"]).toBe("application/ocsp-response");
    expect(Buffer.from(get.rawPayload).equals(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]))).toBe(true);
    expect((await t!.app.inject({ url: "/t/pro/pki/ocsp/%%%" })).statusCode).toBe(400);
  });

  it("time-stamps SHA-256, SHA-384 and SHA-512 digests for openssl ts, with the nonce, the policy and serials in order", async () => {
    const { dir, tenant } = await setUp();
    writeFileSync(path.join(dir, "document.txt"), "Contratto di adesione al servizio\n");
    const serials: number[] = [];
    for (const hash of ["sha256", "sha384", "sha512"]) {
      await openssl(["ts", "-query", "-data", "document.txt", `-${hash}`, "-cert", "-out", `${hash}.tsq`], { cwd: dir });
      const reply = await t!.app.inject({ method: "POST", url: "/t/pro/pki/tsa", headers: { "content-type": "application/timestamp-query" }, payload: (await import("node:fs")).readFileSync(path.join(dir, `${hash}.tsq`)) });
      expect(reply.headers["content-type"]).toBe("application/timestamp-reply");
      writeFileSync(path.join(dir, `${hash}.tsr`), Buffer.from(reply.rawPayload));
      const verified = await openssl(["ts", "-verify", "-data", "document.txt", "-in", `${hash}.tsr`, "-CAfile", "chain.pem"], { cwd: dir });
      expect(verified.stdout, verified.stderr).toContain("Verification: OK");
      // The reply matches its query: same imprint and nonce.
      expect((await openssl(["ts", "-verify", "-queryfile", `${hash}.tsq`, "-in", `${hash}.tsr`, "-CAfile", "chain.pem"], { cwd: dir })).stdout).toContain("Verification: OK");
      const text = (await openssl(["ts", "-reply", "-in", `${hash}.tsr`, "-text"], { cwd: dir })).stdout;
      expect(text).toContain(`Policy OID: ${tenant.policy.pki.tsa.policy}`);
      expect(text).toContain("Accuracy: 0x01 seconds");
      serials.push(Number.parseInt(/Serial number: (0x[0-9A-F]+)/.exec(text)![1]!, 16));
    }
    expect(serials[1]).toBeGreaterThan(serials[0]!);
    expect(serials[2]).toBeGreaterThan(serials[1]!);
    // Another document does not verify against a token.
    writeFileSync(path.join(dir, "other.txt"), "altro\n");
    expect((await openssl(["ts", "-verify", "-data", "other.txt", "-in", "sha256.tsr", "-CAfile", "chain.pem"], { cwd: dir })).stdout).not.toContain("Verification: OK");
  });

  it("rejects time-stamp queries it cannot grant, saying why", async () => {
    const { dir } = await setUp();
    writeFileSync(path.join(dir, "document.txt"), "x");
    const reply = async (file: string | Buffer) => {
      const payload = typeof file === "string" ? (await import("node:fs")).readFileSync(path.join(dir, file)) : file;
      const r = await t!.app.inject({ method: "POST", url: "/t/pro/pki/tsa", headers: { "content-type": "application/timestamp-query" }, payload });
      writeFileSync(path.join(dir, "r.tsr"), Buffer.from(r.rawPayload));
      return (await openssl(["ts", "-reply", "-in", "r.tsr", "-text"], { cwd: dir })).stdout;
    };
    await openssl(["ts", "-query", "-data", "document.txt", "-sha1", "-out", "sha1.tsq"], { cwd: dir });
    expect(await reply("sha1.tsq")).toMatch(/Status: Rejected[\s\S]*unrecognized or unsupported algorithm identifier/);
    await openssl(["ts", "-query", "-data", "document.txt", "-sha256", "-tspolicy", "1.2.3.4.5", "-out", "policy.tsq"], { cwd: dir });
    expect(await reply("policy.tsq")).toMatch(/Status: Rejected[\s\S]*requested TSA policy is not supported/);
    expect(await reply(Buffer.from("not a query"))).toMatch(/Status: Rejected[\s\S]*data submitted has the wrong format/);
  });

  it("refuses a weak key or a subject outside the profile, issuing nothing", async () => {
    const { tenant, tenantUrl } = await setUp();
    const { generateKeyPairSync } = await import("node:crypto");
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "der", type: "spki" });
    await expect(issueCertificate(t!.deps, tenant, tenantUrl, { profile: "qualified-signing", subject: ANE, publicKey: weak }, BY)).rejects.toMatchObject({ code: "pki.weak_public_key" });
    await expect(issueCertificate(t!.deps, tenant, tenantUrl, { profile: "qualified-signing", subject: ANE, publicKey: Buffer.from("junk") }, BY)).rejects.toMatchObject({ code: "pki.invalid_public_key" });
    await expect(issueCertificate(t!.deps, tenant, tenantUrl, { profile: "qualified-signing", subject: { ...ANE, serialNumber: "12345678Z" }, publicKey: subjectKey().spki }, BY)).rejects.toMatchObject({ code: "pki.invalid_request" });
    const issued = await t!.store.db.selectFrom("certificates").select("profile").where("profile", "not like", "authority:%").execute();
    expect(issued).toEqual([]);
  });

  it("publishes nothing for a tenant without a PKI", async () => {
    t = await testApp();
    for (const p of ["ca.pem", "chain.pem", "crl", "pds"]) expect((await t.app.inject({ url: `/t/university/pki/${p}` })).statusCode).toBe(404);
    expect((await t.app.inject({ method: "POST", url: "/t/university/pki/ocsp", headers: { "content-type": "application/ocsp-request" }, payload: Buffer.from("x") })).statusCode).toBe(404);
  });
});
