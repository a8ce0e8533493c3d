import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { revokeCertificate } from "../../src/pki/revocation.ts";
import { cscScene } from "../helpers/csc.ts";
import { lastCodeTo } from "../helpers/enrolment.ts";
import { PASSWORD } from "../helpers/flows.ts";
import { openssl, workdir } from "../helpers/pki.ts";

let scene: Awaited<ReturnType<typeof cscScene>> | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await scene?.t.close();
  scene = undefined;
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("base64");
const ECDSA_SHA256 = "1.2.840.10045.4.3.2";

describe("the CSC API v2: info, credentials", () => {
  it("describes the service without a token, and nothing else without one", async () => {
    scene = await cscScene();
    const { call, t } = scene;
    const info = await call("info", {}, null);
    expect(info.status).toBe(200);
    expect(info.json).toMatchObject({ specs: "2.0.0.2", authType: ["oauth2code"], oauth2: `${t.baseUrl}/t/pro`, conformance_levels: ["Ades-B-B", "Ades-B-T"] });
    expect(info.json.methods).toEqual(expect.arrayContaining(["credentials/list", "credentials/authorize", "signatures/signHash", "signatures/signDoc", "signatures/timestamp"]));
    // Its logo is one this server serves.
    expect((await fetch(info.json.logo as string)).status).toBe(200);
    const anonymous = await call("credentials/list", {}, null);
    expect(anonymous).toMatchObject({ status: 401, json: { error: "invalid_token" } });
    expect((await call("credentials/list", {}, "not.a.token")).status).toBe(401);
    // A token whose signature does not verify is none.
    const [header, payload, signature] = scene.accessToken.split(".");
    const tampered = `${header}.${payload}.${signature!.slice(0, 10)}${signature![10] === "A" ? "B" : "A"}${signature!.slice(11)}`;
    expect((await call("credentials/list", {}, tampered)).status).toBe(401);
  });

  it("lists the signer's credential and describes its key, certificate chain and how a signature is authorised", async () => {
    scene = await cscScene();
    const { call, credentialId } = scene;
    const list = await call("credentials/list", { credentialInfo: true, certificates: "chain", certInfo: true, authInfo: true });
    expect(list.status).toBe(200);
    expect(list.json.credentialIDs).toEqual([credentialId]);
    const info = await call("credentials/info", { credentialID: credentialId, certificates: "chain", certInfo: true, authInfo: true });
    expect(info.json).toMatchObject({
      key: { status: "enabled", len: 256, curve: "1.2.840.10045.3.1.7" },
      cert: { status: "valid", subjectDN: expect.stringContaining("Ane"), issuerDN: expect.any(String), validFrom: expect.stringMatching(/^\d{14}Z$/) },
      authMode: "explicit",
      auth: { mode: "explicit", expression: "PIN AND OTP" },
      SCAL: "2",
      signatureQualifier: "eu_eidas_qes",
    });
    expect((info.json.key as { algo: string[] }).algo).toContain(ECDSA_SHA256);
    // The chain as openssl reads it: the credential's certificate verifies against the tenant's CAs.
    const [leaf, issuing, root] = (info.json.cert as { certificates: string[] }).certificates;
    const dir = workdir({ "leaf.der": Buffer.from(leaf!, "base64"), "issuing.der": Buffer.from(issuing!, "base64"), "root.der": Buffer.from(root!, "base64") });
    for (const name of ["leaf", "issuing", "root"]) await openssl(["x509", "-inform", "DER", "-in", `${name}.der`, "-out", `${name}.pem`], { cwd: dir });
    expect((await openssl(["verify", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "leaf.pem"], { cwd: dir })).stdout).toContain("leaf.pem: OK");
    expect(await call("credentials/info", { credentialID: "someone-elses" })).toMatchObject({ status: 400, json: { error: "invalid_request", error_description: "Invalid parameter credentialID" } });
    expect(await call("credentials/info", {})).toMatchObject({ status: 400, json: { error_description: "Missing (or invalid type) string parameter credentialID" } });
  });
});

describe("the CSC API v2: authorising and signing hashes", () => {
  it("signs exactly the hashes a SAD authorised, each once, and none after it expires", async () => {
    scene = await cscScene();
    const { call, authorize, credentialId } = scene;
    const [h1, h2, h3] = ["uno", "dos", "tres"].map(sha256);
    const sad = await authorize([h1!, h2!]);
    const signHash = (hashes: string[], s = sad) => call("signatures/signHash", { credentialID: credentialId, SAD: s, hashes, signAlgo: ECDSA_SHA256 });
    expect(await signHash([h3!])).toMatchObject({ status: 400, json: { error: "invalid_request", error_description: expect.stringContaining("not authorised by this SAD") } });
    const first = await signHash([h1!]);
    expect(first.status).toBe(200);
    // openssl checks the signature over the digest with the certificate's key.
    const info = await call("credentials/info", { credentialID: credentialId, certificates: "single" });
    const dir = workdir({ "cert.der": Buffer.from((info.json.cert as { certificates: string[] }).certificates[0]!, "base64"), "hash.bin": Buffer.from(h1!, "base64"), "sig.der": Buffer.from((first.json.signatures as string[])[0]!, "base64") });
    await openssl(["x509", "-inform", "DER", "-in", "cert.der", "-pubkey", "-noout", "-out", "pub.pem"], { cwd: dir });
    expect((await openssl(["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", "hash.bin", "-sigfile", "sig.der"], { cwd: dir })).stdout).toContain("Signature Verified Successfully");
    // Once only, and no more than authorised.
    expect((await signHash([h1!])).json.error_description).toContain("signed already");
    expect((await signHash([h2!, h3!])).status).toBe(400);
    expect((await signHash([h2!])).status).toBe(200);
    expect((await signHash([h2!])).status).toBe(400);
    // A SAD is a sealed token of this server: another string is none, and it expires.
    expect((await signHash([h3!], "forged")).json.error_description).toBe("Invalid parameter SAD");
    // (Codes are sent at most once a minute.)
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    const later = await authorize([h3!]);
    vi.setSystemTime(Date.now() + scene.tenant.policy.signing.sadSeconds * 1000 + 1000);
    expect((await signHash([h3!], later)).json.error_description).toBe("SAD expired");
    const audit = await scene.t.store.db.selectFrom("audit_entries").select("type").where("type", "like", "signature.%").execute();
    expect(audit.map((a) => a.type).sort()).toEqual(["signature.authorized", "signature.authorized", "signature.created", "signature.created"]);
  });

  it("signs with an RSA credential in PKCS#1 v1.5 and PSS, SHA-256 to SHA-512, as openssl verifies them", async () => {
    scene = await cscScene({ keyAlgorithm: "RSA-2048" });
    const { call, authorize, credentialId } = scene;
    const info = await call("credentials/info", { credentialID: credentialId, certificates: "single" });
    expect(info.json.key).toMatchObject({ len: 2048, algo: expect.arrayContaining(["1.2.840.113549.1.1.10", "1.2.840.113549.1.1.11"]) });
    const dir = workdir({ "cert.der": Buffer.from((info.json.cert as { certificates: string[] }).certificates[0]!, "base64") });
    await openssl(["x509", "-inform", "DER", "-in", "cert.der", "-pubkey", "-noout", "-out", "pub.pem"], { cwd: dir });
    const cases = [
      { name: "pkcs1-256", hash: "sha256", body: { signAlgo: "1.2.840.113549.1.1.11" }, verify: ["-pkeyopt", "digest:sha256"] },
      { name: "pkcs1-512", hash: "sha512", body: { signAlgo: "1.2.840.113549.1.1.1", hashAlgorithmOID: "2.16.840.1.101.3.4.2.3" }, verify: ["-pkeyopt", "digest:sha512"] },
      { name: "pss-384", hash: "sha384", body: { signAlgo: "1.2.840.113549.1.1.10", hashAlgorithmOID: "2.16.840.1.101.3.4.2.2" }, verify: ["-pkeyopt", "digest:sha384", "-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:48"] },
    ];
    for (const c of cases) {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() + 61_000);
      const digest = createHash(c.hash).update(c.name).digest("base64");
      const oid = { sha256: "2.16.840.1.101.3.4.2.1", sha384: "2.16.840.1.101.3.4.2.2", sha512: "2.16.840.1.101.3.4.2.3" }[c.hash]!;
      const sad = await authorize([digest], { hashAlgorithmOID: oid });
      const signed = await call("signatures/signHash", { credentialID: credentialId, SAD: sad, hashes: [digest], ...c.body });
      expect(signed.status, JSON.stringify(signed.json)).toBe(200);
      writeFileSync(path.join(dir, `${c.name}.bin`), Buffer.from(digest, "base64"));
      writeFileSync(path.join(dir, `${c.name}.sig`), Buffer.from((signed.json.signatures as string[])[0]!, "base64"));
      const verified = await openssl(["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", `${c.name}.bin`, "-sigfile", `${c.name}.sig`, ...c.verify], { cwd: dir });
      expect(verified.stdout, `${c.name}: ${verified.stderr}`).toContain("Signature Verified Successfully");
    }
    // An ECDSA algorithm is not this key's.
    expect((await call("signatures/signHash", { credentialID: credentialId, SAD: "x", hashes: [sha256("x")], signAlgo: ECDSA_SHA256 })).json.error_description).toContain("RSA-2048");
  });

  it("refuses a wrong PIN or code, and locks signing after as many as a sign-in allows", async () => {
    scene = await cscScene();
    const { call, credentialId, t, tenant } = scene;
    const hashes = [sha256("contrato")];
    const attempt = async (pin: string) => {
      expect((await call("credentials/sendOTP", { credentialID: credentialId })).status).toBe(204);
      const otp = await lastCodeTo(t, "+34600000001", "pro");
      return call("credentials/authorize", { credentialID: credentialId, numSignatures: 1, hashes, authData: [{ id: "PIN", value: pin }, { id: "OTP", value: otp }] });
    };
    vi.useFakeTimers({ toFake: ["Date"] });
    expect((await attempt("Wrong-Password-1")).json).toMatchObject({ error: "invalid_request", error_description: "Invalid PIN" });
    // A wrong code counts too (v1 clients give PIN and OTP as they are).
    vi.setSystemTime(Date.now() + 120_000);
    expect((await call("credentials/authorize", { credentialID: credentialId, numSignatures: 1, hashes, PIN: PASSWORD, OTP: "000000" })).json.error_description).toMatch(/^Invalid OTP/);
    for (let i = 2; i < tenant.policy.lockout.maxFailures; i++) {
      vi.setSystemTime(Date.now() + 120_000);
      expect((await attempt(`Wrong-Password-${i}`)).json.error_description).toBe("Invalid PIN");
    }
    vi.setSystemTime(Date.now() + 120_000);
    const locked = await attempt(PASSWORD);
    expect(locked.status).toBe(403);
    expect(locked.json.error).toBe("access_denied");
    // Nothing was authorised; each refusal is in the audit log.
    expect(await t.store.db.selectFrom("signature_activations").select("id").execute()).toHaveLength(0);
    expect((await t.store.db.selectFrom("audit_entries").select("type").where("type", "=", "signature.refused").execute()).length).toBe(tenant.policy.lockout.maxFailures);
  });

  it("checks the signing password alone for the virtual card's C_Login (checkPIN), under the same lock as authorisations", async () => {
    scene = await cscScene();
    const { call, credentialId, tenant, authorize } = scene;
    vi.useFakeTimers({ toFake: ["Date"] });
    expect((await call("credentials/checkPIN", { credentialID: credentialId, PIN: PASSWORD })).status).toBe(204);
    expect((await call("credentials/checkPIN", { credentialID: credentialId })).json.error_description).toBe("Missing (or invalid type) string parameter PIN");
    expect((await call("credentials/checkPIN", { credentialID: "nope", PIN: PASSWORD })).status).toBe(400);
    for (let i = 1; i < tenant.policy.lockout.maxFailures; i++) {
      vi.setSystemTime(Date.now() + 120_000);
      expect((await call("credentials/checkPIN", { credentialID: credentialId, PIN: `Wrong-${i}` })).json).toEqual({ error: "invalid_request", error_description: "Invalid PIN" });
    }
    // The right password alone does not clear the count (wrong codes of authorisations count there
    // too): one more wrong one locks.
    vi.setSystemTime(Date.now() + 120_000);
    expect((await call("credentials/checkPIN", { credentialID: credentialId, PIN: PASSWORD })).status).toBe(204);
    vi.setSystemTime(Date.now() + 120_000);
    expect((await call("credentials/checkPIN", { credentialID: credentialId, PIN: "Wrong-last" })).json.error_description).toBe("Invalid PIN");
    vi.setSystemTime(Date.now() + 120_000);
    expect((await call("credentials/checkPIN", { credentialID: credentialId, PIN: PASSWORD })).json.error).toBe("access_denied");
    await expect(authorize([sha256("contrato")])).rejects.toThrow();
  });

  it("sends the next signing code at once when the last one was used, not while it is still pending", async () => {
    scene = await cscScene();
    const { call, credentialId, authorize } = scene;
    const first = await authorize([sha256("uno")]);
    expect(first).toEqual(expect.any(String));
    // The code was used by that authorisation: another signature may have its code now.
    expect((await call("credentials/sendOTP", { credentialID: credentialId })).status).toBe(204);
    const again = await call("credentials/sendOTP", { credentialID: credentialId });
    expect(again.status).toBe(429);
    expect(again.json.error_description).toMatch(/\d+ s|seconds|segundos/);
  });

  it("signs nothing with a revoked credential", async () => {
    scene = await cscScene();
    const { call, authorize, credentialId, t, tenant } = scene;
    const sad = await authorize([sha256("antes")]);
    const serial = (await t.store.db.selectFrom("memberships").select("certificate_serial").where("id", "=", credentialId).executeTakeFirstOrThrow()).certificate_serial!;
    await revokeCertificate(t.deps, tenant, { serial, reason: "keyCompromise" }, { actor: "test" });
    expect((await call("credentials/info", { credentialID: credentialId })).json).toMatchObject({ key: { status: "disabled" }, cert: { status: "revoked" } });
    expect((await call("signatures/signHash", { credentialID: credentialId, SAD: sad, hashes: [sha256("antes")], signAlgo: ECDSA_SHA256 })).json.error_description).toContain("revoked");
    expect((await call("credentials/sendOTP", { credentialID: credentialId })).status).toBe(400);
  });

  it("time-stamps a hash with the tenant's TSA, as openssl verifies the token", async () => {
    scene = await cscScene();
    const imprint = randomBytes(32);
    const answer = await scene.call("signatures/timestamp", { hash: imprint.toString("base64"), hashAlgorithmOID: "2.16.840.1.101.3.4.2.1", nonce: "0a1b2c3d" });
    expect(answer.status).toBe(200);
    const get = async (p: string) => Buffer.from(await (await fetch(`${scene!.t.baseUrl}/t/pro/pki/${p}`)).arrayBuffer());
    const dir = workdir({ "token.der": Buffer.from(answer.json.timestamp as string, "base64"), "chain.pem": await get("chain.pem"), "tsa.pem": await get("tsa.pem") });
    const verified = await openssl(["ts", "-verify", "-digest", imprint.toString("hex"), "-in", "token.der", "-token_in", "-CAfile", "chain.pem", "-untrusted", "tsa.pem"], { cwd: dir });
    expect(verified.stdout + verified.stderr).toContain("Verification: OK");
    expect((await openssl(["ts", "-reply", "-in", "token.der", "-token_in", "-text", "-token_out"], { cwd: dir })).stdout).toMatch(/Nonce: 0x0?A1B2C3D/i);
    expect((await scene.call("signatures/timestamp", { hash: "AAAA", hashAlgorithmOID: "2.16.840.1.101.3.4.2.1" })).json.error_description).toContain("not a digest");
  });
});
