import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { initPki } from "../../src/pki/authorities.ts";
import { issueCertificate } from "../../src/pki/issuance.ts";
import { revokeCertificate } from "../../src/pki/revocation.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { ANE, openssl, run, setPkiPolicy, subjectKey, workdir } from "../helpers/pki.ts";
import { softhsmAvailable, softhsmToken } from "../helpers/softhsm.ts";

const BY = { actor: "test" };

describe.runIf(softhsmAvailable)("the PKI with its keys on a PKCS#11 token (SoftHSM2)", () => {
  // Made before the library is first initialised (SoftHSM finds its tokens then).
  const token = softhsmAvailable ? softhsmToken("tessera-pro") : undefined;
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.app.close();
    await t?.store.close();
  });

  it("issues, revokes and answers OCSP and time-stamps with keys that never leave the token", async () => {
    process.env.TESSERA_TEST_HSM_PIN = token!.pin;
    const publicUrl = { current: "http://localhost" };
    t = await testApp({ publicUrl, clockStart: Date.now() });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const port = (t.app.server.address() as { port: number }).port;
    publicUrl.current = `http://127.0.0.1:${port}`;
    const tenantUrl = `${publicUrl.current}/t/pro`;
    // RSA and EC on the token: CKM_RSA_PKCS over a DigestInfo, CKM_ECDSA (raw r‖s made DER).
    const tenant = await setPkiPolicy(t.store, "pro", {
      keystore: { kind: "pkcs11", module: token!.module, tokenLabel: token!.tokenLabel, pinEnv: "TESSERA_TEST_HSM_PIN" },
      algorithms: { root: "EC-P384", issuing: "RSA-2048", ocsp: "EC-P256", tsa: "RSA-2048" },
    });
    const { hierarchy } = await initPki(t.deps, tenant, tenantUrl, BY);
    for (const role of ["root", "issuing", "ocsp", "tsa"] as const) {
      expect(hierarchy[role].key.keystore).toBe("pkcs11");
      expect(hierarchy[role].key.private_key).toBeNull();
    }

    const dir = workdir({ "chain.pem": Buffer.from((await t.app.inject({ url: "/t/pro/pki/chain.pem" })).rawPayload) });
    await openssl(["x509", "-in", "chain.pem", "-out", "issuing.pem"], { cwd: dir });
    const issued = await issueCertificate(t.deps, tenant, tenantUrl, { profile: "qualified-signing", subject: ANE, publicKey: subjectKey("rsa").spki }, BY);
    writeFileSync(path.join(dir, "leaf.pem"), issued.pem);
    expect((await openssl(["verify", "-CAfile", "chain.pem", "leaf.pem"], { cwd: dir })).stdout).toContain("leaf.pem: OK");

    const ocsp = (...args: string[]) => openssl(["ocsp", "-issuer", "issuing.pem", "-cert", "leaf.pem", "-url", `${tenantUrl}/pki/ocsp`, "-CAfile", "chain.pem", ...args], { cwd: dir });
    const good = await ocsp();
    expect(good.stderr).toContain("Response verify OK");
    expect(good.stdout).toContain("leaf.pem: good");
    await revokeCertificate(t.deps, tenant, { serial: issued.serial, reason: "keyCompromise" }, BY);
    expect((await ocsp()).stdout).toContain("leaf.pem: revoked");

    writeFileSync(path.join(dir, "data.txt"), "firmato\n");
    await openssl(["ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "q.tsq"], { cwd: dir });
    const reply = await t.app.inject({ method: "POST", url: "/t/pro/pki/tsa", headers: { "content-type": "application/timestamp-query" }, payload: readFileSync(path.join(dir, "q.tsq")) });
    writeFileSync(path.join(dir, "r.tsr"), Buffer.from(reply.rawPayload));
    expect((await openssl(["ts", "-verify", "-data", "data.txt", "-in", "r.tsr", "-CAfile", "chain.pem"], { cwd: dir })).stdout).toContain("Verification: OK");

    // The token holds the four private keys, sensitive and not extractable, labelled by tenant.
    const objects = await run("pkcs11-tool", ["--module", token!.module, "--token-label", token!.tokenLabel, "--login", "--pin", token!.pin, "--list-objects", "--type", "privkey"]);
    expect(objects.stdout.match(/Private Key Object/g)).toHaveLength(4);
    expect(objects.stdout.match(/label:\s+tessera:pro:/g)).toHaveLength(4);
    expect(objects.stdout).toMatch(/Access:\s+sensitive, always sensitive, never extractable/);
  });
});
