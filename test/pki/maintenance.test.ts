import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HIERARCHY_REFRESH_MS, initPki, loadHierarchy } from "../../src/pki/authorities.ts";
import { issueCertificate } from "../../src/pki/issuance.ts";
import { maintainPki } from "../../src/pki/maintenance.ts";
import { type TestApp, testApp } from "../helpers/app.ts";
import { ANE, EC_ALGORITHMS, openssl, setPkiPolicy, subjectKey, workdir } from "../helpers/pki.ts";

const BY = { actor: "test" };
const DAY = 86_400_000;
const tenantUrl = "http://localhost/t/pro";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
  t = undefined;
});

describe("the PKI's periodic work", () => {
  it("signs a new CRL when the last is older than the reissue period, not before", async () => {
    t = await testApp({ clockStart: Date.now() });
    const tenant = await setPkiPolicy(t.store, "pro", { algorithms: EC_ALGORITHMS, crl: { validityHours: 48, reissueHours: 24 } });
    const { hierarchy } = await initPki(t.deps, tenant, tenantUrl, BY);
    const latest = async () => (await t!.store.repos.pki.latestCrl("pro", hierarchy.issuing.id))!;
    const first = await latest();
    t.clock.advance(23 * 3_600_000);
    await maintainPki(t.deps, [tenant], "http://localhost");
    expect((await latest()).number).toBe(first.number);
    t.clock.advance(3_600_000);
    await maintainPki(t.deps, [tenant], "http://localhost");
    const second = await latest();
    expect(second.number).toBe(first.number + 1);
    expect(second.next_update - second.this_update).toBe(48 * 3_600_000);
    // The root's too.
    expect((await t.store.repos.pki.latestCrl("pro", hierarchy.root.id))!.number).toBe(2);
  });

  it("renews the OCSP responder's key and certificate before they end; the new one answers, and OpenSSL accepts it", async () => {
    // The clock starts 11 days back, so that after the renewal it is now (OpenSSL checks validity against its own clock).
    t = await testApp({ clockStart: Date.now() - 11 * DAY });
    const tenant = await setPkiPolicy(t.store, "pro", { algorithms: EC_ALGORITHMS, validity: { rootYears: 20, issuingYears: 10, ocspSignerDays: 40, tsaYears: 10, certificateDays: 365 } });
    const { hierarchy } = await initPki(t.deps, tenant, tenantUrl, BY);
    const issued = await issueCertificate(t.deps, tenant, tenantUrl, { profile: "qualified-signing", subject: ANE, publicKey: subjectKey().spki }, BY);
    await maintainPki(t.deps, [tenant], "http://localhost");
    expect((await loadHierarchy(t.deps, tenant))!.ocsp.serial).toBe(hierarchy.ocsp.serial);

    t.clock.advance(11 * DAY);
    await maintainPki(t.deps, [tenant], "http://localhost");
    t.clock.advance(HIERARCHY_REFRESH_MS);
    const renewed = (await loadHierarchy(t.deps, tenant))!;
    expect(renewed.ocsp.serial).not.toBe(hierarchy.ocsp.serial);
    expect(renewed.ocsp.key.id).not.toBe(hierarchy.ocsp.key.id);
    expect(renewed.ocsp.notAfter - t.clock.now()).toBeGreaterThan(39 * DAY);
    expect(await t.store.db.selectFrom("audit_entries").select("type").where("type", "=", "pki.renewed").execute()).toHaveLength(1);

    const dir = workdir({ "leaf.pem": issued.pem, "chain.pem": Buffer.from((await t.app.inject({ url: "/t/pro/pki/chain.pem" })).rawPayload) });
    await openssl(["x509", "-in", "chain.pem", "-out", "issuing.pem"], { cwd: dir });
    await openssl(["ocsp", "-issuer", "issuing.pem", "-cert", "leaf.pem", "-reqout", "req.der"], { cwd: dir });
    const reply = await t.app.inject({ method: "POST", url: "/t/pro/pki/ocsp", headers: { "content-type": "application/ocsp-request" }, payload: readFileSync(path.join(dir, "req.der")) });
    writeFileSync(path.join(dir, "resp.der"), Buffer.from(reply.rawPayload));
    const checked = await openssl(["ocsp", "-reqin", "req.der", "-respin", "resp.der", "-CAfile", "chain.pem", "-resp_text"], { cwd: dir });
    expect(checked.stderr).toContain("Response verify OK");
    expect(checked.stdout).toContain(`Responder Id: ${renewed.ocsp.keyId.toString("hex").toUpperCase()}`);
    expect(checked.stdout).toContain("Cert Status: good");
  });
});
