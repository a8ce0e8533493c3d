import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { initPki } from "../../src/pki/authorities.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { EC_ALGORITHMS, openssl, setPkiPolicy, workdir } from "../helpers/pki.ts";

const TOKEN = "admin-token-admin-token-admin-token-0123";
const auth = { authorization: `Bearer ${TOKEN}` };
let t: TestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
  t = undefined;
});

describe("the PKI in the admin API", () => {
  it("issues for a CSR with the subject the caller vouches for, lists, and revokes; refuses what is wrong, issuing nothing", async () => {
    t = await testApp({ adminToken: TOKEN, clockStart: Date.now() });
    const tenant = await setPkiPolicy(t.store, "pro", { algorithms: EC_ALGORITHMS });
    await initPki(t.deps, tenant, "http://localhost/t/pro", { actor: "test" });
    const dir = workdir({ "chain.pem": Buffer.from((await t.app.inject({ url: "/t/pro/pki/chain.pem" })).rawPayload) });
    await openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-subj", "/CN=from the csr", "-out", "req.pem"], { cwd: dir });
    const csr = readFileSync(path.join(dir, "req.pem"), "utf8");
    const subject = { country: "ES", common_name: "ANE ETXEBERRIA", given_name: "Ane", surname: "Etxeberria", serial_number: "IDCES-12345678Z" };
    const post = (payload: unknown, headers: Record<string, string> = auth) => t!.app.inject({ method: "POST", url: "/admin/api/tenants/pro/pki/certificates", headers, payload: payload as object });

    expect((await post({ csr, subject }, {})).statusCode).toBe(401);
    const issued = await post({ csr, subject, days: 10 });
    expect(issued.statusCode, issued.body).toBe(201);
    const body = issued.json<{ serial: string; certificate: string; subject: string; revoked_at: null }>();
    expect(body.subject).toBe("CN=ANE ETXEBERRIA, serialNumber=IDCES-12345678Z, GN=Ane, SN=Etxeberria, C=ES");
    writeFileSync(path.join(dir, "cert.pem"), body.certificate);
    expect((await openssl(["verify", "-CAfile", "chain.pem", "cert.pem"], { cwd: dir })).stdout).toContain("cert.pem: OK");
    // The key is the CSR's: the certificate and the private key match.
    const certKey = (await openssl(["x509", "-in", "cert.pem", "-noout", "-pubkey"], { cwd: dir })).stdout;
    const ownKey = (await openssl(["pkey", "-in", "key.pem", "-pubout"], { cwd: dir })).stdout;
    expect(certKey).toBe(ownKey);

    // The same request with one bit of its signature flipped, as Base64 DER.
    const der = Buffer.from(csr.replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 3]! ^= 0x01;
    const tampered = der.toString("base64");
    const refused = [
      await post({ csr: tampered, subject }),
      await post({ csr: "not a csr", subject }),
      await post({ csr, subject: { ...subject, serial_number: "12345678Z" } }),
      await post({ csr, subject, profile: "code-signing" }),
    ];
    for (const r of refused) expect(r.statusCode, r.body).toBe(400);
    expect(refused[0]!.json<{ error_description: string }>().error_description).toBe("the request's signature does not verify with its own key");
    expect((await post({ csr, subject, account: "99999999R" })).statusCode).toBe(404);

    const listed = (await t.app.inject({ url: "/admin/api/tenants/pro/pki/certificates", headers: auth })).json<{ serial: string; profile: string }[]>();
    expect(listed.filter((c) => !c.profile.startsWith("authority:")).map((c) => c.serial)).toEqual([body.serial]);

    const revoke = (serial: string, payload: object = { reason: "keyCompromise" }) => t!.app.inject({ method: "POST", url: `/admin/api/tenants/pro/pki/certificates/${serial}/revocation`, headers: auth, payload });
    const revoked = await revoke(body.serial);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ serial: body.serial, revocation_reason: "keyCompromise" });
    expect((await revoke(body.serial)).statusCode).toBe(409);
    expect((await revoke("0a0b0c0d")).statusCode).toBe(404);
    expect((await revoke(body.serial, { reason: "whim" })).statusCode).toBe(400);
  });
});
