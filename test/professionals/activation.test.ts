import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findAccountByIdentifier } from "../../src/identity/accounts.ts";
import { findTenant } from "../../src/tenants/service.ts";
import type { TestApp } from "../helpers/app.ts";
import { lastCodeTo, lastMessageTo } from "../helpers/enrolment.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { openssl, qcStatementsOf, workdir } from "../helpers/pki.ts";
import { activationLinkTo, MIREN, proScene } from "../helpers/professionals.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.app.close();
  await t?.store.close();
  t = undefined;
});

const NEW_PASSWORD = "Haritza-Berdea-2031";

describe("professionals: from the desk to an active identity with a certificate per organisation", () => {
  it("records requests at the desk, has them authorised by the representative, and activates the professional in six steps", async () => {
    const scene = await proScene();
    t = scene.t;
    const { base, aneCookie, city, firm, post, atDesk, membershipsOf } = scene;
    expect((await atDesk(city.id)).statusCode).toBe(303);
    t.clock.advance(1000);
    expect((await atDesk(firm.id)).statusCode).toBe(303);
    // The representative is told; so is the applicant.
    expect((await lastMessageTo(t, "ane@example.eus", "pro")).text).toContain("Miren Arana");
    expect((await lastMessageTo(t, MIREN.email, "pro")).text).toContain("Ejemplo Ingeniería S.L.");

    const console = await t.app.inject({ url: "/t/pro/organisations", headers: { cookie: aneCookie, accept: "text/html" } });
    expect(console.statusCode).toBe(200);
    const requested = await membershipsOf(MIREN.dni);
    expect(requested.map((m) => [m.organization_id, m.state, m.channel])).toEqual([[city.id, "requested", "desk"], [firm.id, "requested", "desk"]]);
    for (const m of requested) expect(console.body).toContain(`/t/pro/organisations/requests/${m.id}/authorise`);
    for (const m of requested) {
      t.clock.advance(1000);
      expect((await post(`/t/pro/organisations/requests/${m.id}/authorise`, aneCookie, {})).headers.location).toBe("/t/pro/organisations?notice=professionals.notice.authorised");
    }
    // Decided once only.
    const again = await post(`/t/pro/organisations/requests/${requested[0]!.id}/authorise`, aneCookie, {});
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain("already been decided");

    // Step 1: the e-mail with the link (the second authorisation's replaced the first's).
    const link = await activationLinkTo(t, MIREN.email);
    expect(link.startsWith(`${base}/t/pro/activate/`)).toBe(true);
    const browser = httpBrowser(base);
    // Step 2: the code by SMS, sent when the link is opened.
    let page = await browser.go(link);
    expect(page.status).toBe(200);
    expect(page.url).not.toContain("token=");
    expect(page.html).toContain("Step 2 of 6");
    page = await browser.submit(page, /\/activate\//, { code: await lastCodeTo(t, MIREN.phone, "pro") });
    // Step 3: the DNI's expiry date; a wrong one is refused.
    expect(page.html).toContain("Step 3 of 6");
    page = await browser.submit(page, /\/activate\//, { document_expiry_date: "2031-06-29" });
    expect(page.status).toBe(400);
    expect(page.html).toContain("not the expiry date");
    t.clock.advance(1000);
    page = await browser.submit(page, /\/activate\//, { document_expiry_date: MIREN.document_expiry_date });
    // Step 4: the password, under the tenant's rules.
    expect(page.html, page.html.slice(page.html.indexOf("<main"), page.html.indexOf("<main") + 3000)).toContain("Step 4 of 6");
    page = await browser.submit(page, /\/activate\//, { password: "short" });
    expect(page.status).toBe(400);
    page = await browser.submit(page, /\/activate\//, { password: NEW_PASSWORD });
    // Step 5: the terms, which must be accepted.
    expect(page.html).toContain("Step 5 of 6");
    page = await browser.submit(page, /\/activate\//, { accept: "" });
    expect(page.html).toContain("must accept the terms");
    page = await browser.submit(page, /\/activate\//, { accept: "on" });
    // Step 6: the last code; then active, with one certificate per organisation.
    expect(page.html).toContain("Step 6 of 6");
    page = await browser.submit(page, /\/activate\//, { code: await lastCodeTo(t, MIREN.phone, "pro") });
    expect(page.status).toBe(200);
    expect(page.html).toContain("Your professional identity is active");
    expect(page.html).toContain("Ayuntamiento de Ejemplo");
    expect(page.html).toContain("Ejemplo Ingeniería S.L.");

    const tenant = (await findTenant(t.store.repos, "pro"))!;
    const miren = (await findAccountByIdentifier(t.deps, tenant, MIREN.dni))!;
    expect(miren).toMatchObject({ state: "active", preferredFactor: "sms", emailVerifiedAt: expect.any(Number), phoneVerifiedAt: expect.any(Number) });
    const active = await membershipsOf(MIREN.dni);
    expect(active.map((m) => m.state)).toEqual(["active", "active"]);
    expect((await lastMessageTo(t, MIREN.email, "pro")).text).toContain(active[1]!.certificate_serial!);

    // Each certificate, as openssl reads it: the person, the organisation, the QcStatements.
    const dir = workdir();
    for (const [m, organization] of [[active[0]!, city], [active[1]!, firm]] as const) {
      const row = (await t.store.repos.pki.certificatesBySerial("pro", m.certificate_serial!))[0]!;
      writeFileSync(path.join(dir, "c.der"), Buffer.from(row.certificate, "base64"));
      // openssl prints the names' UTF-8 as it is (-esc_msb); run() reads output as bytes (latin1).
      const subject = Buffer.from((await openssl(["x509", "-inform", "DER", "-in", "c.der", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb"], { cwd: dir })).stdout, "latin1").toString("utf8");
      expect(subject).toContain(`serialNumber=IDCES-${MIREN.dni}`);
      expect(subject).toContain(`O=${organization.name}`);
      expect(subject).toContain(`organizationIdentifier=VATES-${organization.taxId}`);
      expect(subject).toContain("GN=Miren,SN=Arana,title=Técnica de urbanismo");
      expect((await openssl(["x509", "-inform", "DER", "-in", "c.der", "-noout", "-ext", "keyUsage"], { cwd: dir })).stdout).toContain("Non Repudiation");
      // QcCompliance, QcSSCD, QcType esign, QcPDS (ETSI EN 319 412-5).
      const statements = await qcStatementsOf(dir, "c.der", "DER");
      for (const oid of ["0.4.0.1862.1.1", "0.4.0.1862.1.4", "0.4.0.1862.1.6.1", "0.4.0.1862.1.5"]) expect(statements).toContain(oid);
      expect(row.account_id).toBe(miren.id);
      expect(row.key_id).toBe(m.key_id);
    }

    // The link is spent; signing in is DNI, password and the code sent at once to the mobile.
    expect((await browser.go(link)).html).toContain("Your professional identity is active");
    t.clock.advance(60_000);
    const login = httpBrowser(base);
    let signIn = await login.go("/t/pro/account");
    signIn = await login.submit(signIn, /\/t\/pro\/login$/, { identifier: MIREN.dni, password: NEW_PASSWORD });
    expect(signIn.html).toContain("We sent a code");
    const codeForm = login.forms(signIn).find((f) => f.fields.method === "sms" && !("send" in f.fields))!;
    signIn = await login.go(codeForm.action, { form: { ...codeForm.fields, code: await lastCodeTo(t, MIREN.phone, "pro") } });
    expect(signIn.url).toBe(`${base}/t/pro/account`);
    expect(signIn.html).toContain("Your certificates");
  });
});
