import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findAccountByIdentifier } from "../../src/identity/accounts.ts";
import { issueMembershipCertificates, prepareMembershipKeys, recordMembershipKeys } from "../../src/flows/professionals/certificates.ts";
import { issueCertificate } from "../../src/pki/issuance.ts";
import { translator } from "../../src/shared/i18n/translate.ts";
import { findTenant } from "../../src/tenants/service.ts";
import { type MtlsServer, startMtlsServer } from "../../src/web/mtls.ts";
import type { TestApp } from "../helpers/app.ts";
import { lastCodeTo, lastMessageTo } from "../helpers/enrolment.ts";
import { PASSWORD } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { openssl, run, subjectKey, workdir } from "../helpers/pki.ts";
import { activationLinkTo, MIREN, organisation, proCookie, professional, proScene } from "../helpers/professionals.ts";

const BY = { actor: "test" };
let t: TestApp | undefined;
let mtls: MtlsServer | undefined;
afterEach(async () => {
  await mtls?.close();
  await t?.app.close();
  await t?.store.close();
  t = undefined;
  mtls = undefined;
});

async function scene() {
  const s = await proScene();
  t = s.t;
  const tenant = (await findTenant(t.store.repos, "pro"))!;
  /** Miren's request at the desk for `organization`, authorised by Ane: the activation link is in her mail. */
  const authorised = async (organization: string) => {
    expect((await s.atDesk(organization)).statusCode).toBe(303);
    const [m] = (await s.membershipsOf(MIREN.dni)).filter((row) => row.organization_id === organization);
    t!.clock.advance(1000);
    expect((await s.post(`/t/pro/organisations/requests/${m!.id}/authorise`, s.aneCookie, {})).statusCode).toBe(303);
    return m!;
  };
  return { ...s, tenant, authorised };
}

describe("professionals: what is refused, and how it is told", () => {
  it("refuses a wrong DNI expiry date, and stops answering after as many wrong dates as a sign-in allows", async () => {
    const { base, city, tenant, authorised } = await scene();
    await authorised(city.id);
    const browser = httpBrowser(base);
    let page = await browser.go(await activationLinkTo(t!, MIREN.email));
    page = await browser.submit(page, /\/activate\//, { code: await lastCodeTo(t!, MIREN.phone, "pro") });
    expect(page.html).toContain("Step 3 of 6");
    const { maxFailures, lockMinutes } = tenant.policy.lockout;
    for (let i = 1; i <= maxFailures; i++) {
      page = await browser.submit(page, /\/activate\//, { document_expiry_date: `2030-01-0${i}` });
      expect(page.status).toBe(400);
      expect(page.html).toContain("not the expiry date");
      t!.clock.advance(60_000);
    }
    // Locked: even the right date is not looked at, and the step is where it was.
    page = await browser.submit(page, /\/activate\//, { document_expiry_date: MIREN.document_expiry_date });
    expect(page.status).toBe(400);
    expect(page.html).toContain("Too many failed attempts");
    expect(page.html).toContain("Step 3 of 6");
    // Not a date at all is said so, and does not count.
    t!.clock.advance(lockMinutes * 60_000);
    page = await browser.submit(page, /\/activate\//, { document_expiry_date: "30/06/2031" });
    expect(page.status).toBe(400);
    t!.clock.advance(5_000);
    page = await browser.submit(page, /\/activate\//, { document_expiry_date: MIREN.document_expiry_date });
    expect(page.html, page.html.slice(page.html.indexOf("<main"), page.html.indexOf("<main") + 2000)).toContain("Step 4 of 6");
    const audit = await t!.store.db.selectFrom("audit_entries").select("type").where("type", "like", "activation.%").execute();
    expect(audit.map((a) => a.type)).toContain("activation.opened");
  });

  it("says an expired link has expired; the representative's new link works and the old one no longer does", async () => {
    const { base, city, ane, post, tenant, authorised } = await scene();
    const membership = await authorised(city.id);
    const first = await activationLinkTo(t!, MIREN.email);
    t!.clock.advance(tenant.policy.professionals.activationLinkHours * 3_600_000 + 60_000);
    const expired = await httpBrowser(base, { acceptLanguage: "en" }).go(first);
    expect(expired.status).toBe(410);
    expect(expired.html).toContain("This activation link has expired");
    // No code went out for a dead link.
    expect((await t!.store.db.selectFrom("outbox").select("id").where("recipient", "=", MIREN.phone).execute())).toHaveLength(0);

    // Days later, Ane signs in again and sends a new link.
    const resent = await post(`/t/pro/organisations/members/${membership.id}/resend`, await proCookie(t!, ane), {});
    expect(resent.headers.location, resent.body.slice(resent.body.indexOf("<main"), resent.body.indexOf("<main") + 2000)).toBe("/t/pro/organisations?notice=professionals.notice.resent");
    const second = await activationLinkTo(t!, MIREN.email);
    expect(second).not.toBe(first);
    const replaced = await httpBrowser(base, { acceptLanguage: "en" }).go(first);
    expect(replaced.status).toBe(404);
    expect(replaced.html).toContain("a newer one replaced it");
    const page = await httpBrowser(base, { acceptLanguage: "en" }).go(second);
    expect(page.status).toBe(200);
    expect(page.html).toContain("Step 2 of 6");
    // The link is the only way in: a client of the JSON API cannot open an activation.
    const api = await t!.app.inject({ method: "POST", url: "/t/pro/api/flows", headers: { "accept-language": "en" }, payload: { kind: "activation" } });
    expect(api.statusCode).toBe(403);
    expect(api.json()).toMatchObject({ error: "forbidden", error_description: expect.stringMatching(/link/) });
  });

  it("tells the applicant a refused request's reason; another organisation's representative may not decide", async () => {
    const { city, firm, aneCookie, post, atDesk, membershipsOf, tenant } = await scene();
    expect((await atDesk(city.id)).statusCode).toBe(303);
    expect((await atDesk(firm.id)).statusCode).toBe(303);
    const [toCity, toFirm] = await membershipsOf(MIREN.dni);

    // Koldo represents another organisation only: Miren's requests are not his to decide.
    const koldo = await professional(t!, { identifier: "87654321X", email: "koldo@example.eus", phone: "+34600000009" });
    await organisation(t!, "Otra Entidad S.A.", "A48000004", [koldo]);
    const foreign = await post(`/t/pro/organisations/requests/${toCity!.id}/authorise`, await proCookie(t!, koldo), {});
    expect(foreign.statusCode).toBe(403);
    expect((await t!.app.inject({ url: "/t/pro/organisations", headers: { cookie: await proCookie(t!, koldo) } })).body).not.toContain(toCity!.id);
    // A level-1 session is not enough for the console.
    expect((await post(`/t/pro/organisations/requests/${toCity!.id}/authorise`, await proCookie(t!, koldo, 1), {})).statusCode).not.toBe(303);

    t!.clock.advance(1000);
    // A refusal needs a reason the console offers.
    expect((await post(`/t/pro/organisations/requests/${toCity!.id}/refuse`, aneCookie, { reason: "because" })).statusCode).toBe(400);
    const refused = await post(`/t/pro/organisations/requests/${toCity!.id}/refuse`, aneCookie, { reason: "data_mismatch", note: "El puesto no coincide." });
    expect(refused.headers.location).toBe("/t/pro/organisations?notice=professionals.notice.refused");
    const mail = await lastMessageTo(t!, MIREN.email, "pro");
    expect(mail.text).toContain(translator("es")("professionals.refusal.data_mismatch"));
    expect(mail.text).toContain("El puesto no coincide.");
    expect(mail.text).toContain(city.name);
    expect((await membershipsOf(MIREN.dni)).map((m) => [m.organization_id, m.state])).toEqual([[city.id, "refused"], [firm.id, "requested"]]);
    // Nobody was created for a refusal; the other request stands, and the refused one can be made anew.
    expect(await findAccountByIdentifier(t!.deps, tenant, MIREN.dni)).toBeUndefined();
    expect((await post(`/t/pro/organisations/requests/${toCity!.id}/authorise`, aneCookie, {})).statusCode).toBe(409);
    expect(toFirm!.state).toBe("requested");
    expect((await atDesk(city.id)).statusCode).toBe(303);
  });

  it("takes a request made with a card only for the card's own DNI, over mutual TLS", async () => {
    const { base, city, tenant, membershipsOf } = await scene();
    mtls = await startMtlsServer({ port: 0, host: "127.0.0.1", publicUrl: base, services: t!.services, log: t!.app.log });
    t!.services.mtlsUrl = mtls.url;
    const dir = workdir();
    const card = async (name: string, dni: string, profile: "tls-client" | "qualified-signing" = "tls-client", names?: { commonName: string }) => {
      const key = subjectKey("ec");
      const subject = names ? { country: "ES", ...names, serialNumber: `IDCES-${dni}` } : { country: "ES", givenName: "MIREN", surname: "ARANA", commonName: `ARANA MIREN - ${dni}`, serialNumber: `IDCES-${dni}` };
      const issued = await issueCertificate(t!.deps, tenant, `${base}/t/pro`, { profile, subject, publicKey: key.spki }, BY);
      writeFileSync(path.join(dir, `${name}.key`), key.pem);
      writeFileSync(path.join(dir, `${name}.pem`), issued.pem);
    };
    const browser = httpBrowser(base, { acceptLanguage: "en" });
    let page = await browser.go("/t/pro/request");
    expect(page.html).toContain("Ayuntamiento de Ejemplo");
    page = await browser.submit(page, /\/t\/pro\/request$/, { organization: city.id, dni: MIREN.dni, given_name: MIREN.given_name, family_name: MIREN.family_name, document_expiry_date: MIREN.document_expiry_date, email: MIREN.email, phone: MIREN.phone, title: MIREN.title });
    expect(page.url).toMatch(/\/t\/pro\/request\/[\w-]+$/);
    /** The browser follows the page's card link to the endpoint, with the card `name` (curl presents it); back with where it was sent. */
    const present = async (name: string) => {
      const toEndpoint = await t!.app.inject({ url: new URL(`${page.url}/card`).pathname, headers: { cookie: browser.cookieHeader(`${page.url}/card`) } });
      expect(toEndpoint.statusCode).toBe(303);
      const curl = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--cert", path.join(dir, `${name}.pem`), "--key", path.join(dir, `${name}.key`), toEndpoint.headers.location as string]);
      const [status, location] = curl.stdout.split(" ");
      expect(status).toBe("303");
      return location!;
    };

    await card("koldo", "87654321X");
    const other = await present("koldo");
    expect(other).toBe(`${page.url}?error=professionals.card.other_dni`);
    const told = await browser.go(other);
    expect(told.status).toBe(422);
    expect(told.html).toContain("The card belongs to another DNI");
    // A signing certificate is no card to sign in with.
    await card("signing", MIREN.dni, "qualified-signing");
    expect(await present("signing")).toBe(`${page.url}?error=professionals.card.not_for_authentication`);
    expect(await membershipsOf(MIREN.dni)).toHaveLength(0);
    const refusals = await t!.store.db.selectFrom("audit_entries").select("data").where("type", "=", "membership.card_refused").execute();
    expect(refusals.map((r) => (JSON.parse(r.data) as { problem: string }).problem)).toEqual(["other_dni", "not_for_authentication"]);
    expect(told.html).not.toContain("already");

    // A card that states no given name and surname must at least carry the typed names.
    await card("other-name", MIREN.dni, "tls-client", { commonName: `ARANA ETXEBERRIA, JON - ${MIREN.dni}` });
    expect(await present("other-name")).toBe(`${page.url}?error=professionals.card.other_name`);

    await card("miren", MIREN.dni);
    const accepted = await present("miren");
    expect(accepted).toMatch(new RegExp(`^${page.url}/card-answer\\?answer=[\\w-]+$`));
    // Nothing is requested until the browser that filled in the request comes back with the answer.
    expect(await membershipsOf(MIREN.dni)).toHaveLength(0);
    expect((await httpBrowser(base).go(accepted)).url).toBe(`${base}/t/pro/request?error=professionals.ticket_invalid`);
    expect(await membershipsOf(MIREN.dni)).toHaveLength(0);
    const done = await browser.go(accepted);
    expect(done.url).toBe(page.url);
    expect(done.html).toContain("Ayuntamiento de Ejemplo");
    const [made] = await membershipsOf(MIREN.dni);
    // Recorded under the names the card states, not as typed.
    expect(made).toMatchObject({ organization_id: city.id, state: "requested", channel: "card", given_name: "MIREN", family_name: "ARANA" });
    expect((await lastMessageTo(t!, "ane@example.eus", "pro")).text).toContain("MIREN ARANA");
  });

  it("revokes a certificate from the holder's panel at once: openssl ocsp answers revoked, the CRL lists it", async () => {
    const { base, city, firm, tenant, authorised, membershipsOf } = await scene();
    await authorised(city.id);
    await authorised(firm.id);
    // Activated (the six steps are the other test's): her two certificates.
    const miren = (await findAccountByIdentifier(t!.deps, tenant, MIREN.dni))!;
    await t!.store.repos.accounts.update("pro", miren.id, { state: "active", updated_at: t!.clock.now() });
    const { keys } = await prepareMembershipKeys(t!.deps, tenant, miren.id, PASSWORD);
    await recordMembershipKeys(t!.deps, tenant, keys);
    const issued = await issueMembershipCertificates(t!.deps, tenant, `${base}/t/pro`, { ...miren, state: "active" }, BY);
    expect(issued).toHaveLength(2);
    const [toCity, toFirm] = await membershipsOf(MIREN.dni);

    const get = async (p: string) => Buffer.from((await t!.app.inject({ url: `/t/pro/${p}`, headers: { cookie: await proCookie(t!, miren) } })).rawPayload);
    const dir = workdir({ "chain.pem": await get("pki/chain.pem"), "issuing.der": await get("pki/issuing.crt"), "city.pem": await get(`account/certificates/${toCity!.id}.pem`), "firm.pem": await get(`account/certificates/${toFirm!.id}.pem`) });
    await openssl(["x509", "-inform", "DER", "-in", "issuing.der", "-out", "issuing.pem"], { cwd: dir });
    const ocsp = (file: string) => openssl(["ocsp", "-issuer", "issuing.pem", "-cert", file, "-url", `${base}/t/pro/pki/ocsp`, "-CAfile", "chain.pem", "-resp_text"], { cwd: dir });
    expect((await ocsp("city.pem")).stdout).toContain("city.pem: good");

    t!.clock.advance(1000);
    const cookie = await proCookie(t!, miren);
    const panel = await t!.app.inject({ url: "/t/pro/account", headers: { cookie, accept: "text/html", "accept-language": "en" } });
    expect(panel.body).toContain("Your certificates");
    expect(panel.body).toContain(`/t/pro/account/certificates/${toCity!.id}/revoke`);
    const revoke = (fields: Record<string, string>) =>
      t!.app.inject({ method: "POST", url: `/t/pro/account/certificates/${toCity!.id}/revoke`, headers: { cookie, origin: base, "content-type": "application/x-www-form-urlencoded", "accept-language": "en" }, payload: new URLSearchParams(fields).toString() });
    expect((await revoke({ reason: "certificateHold" })).statusCode).toBe(400);
    expect((await revoke({ reason: "keyCompromise" })).headers.location).toBe("/t/pro/account?notice=account.certificate.revoked#certificates");

    const revoked = await ocsp("city.pem");
    expect(revoked.stderr).toContain("Response verify OK");
    expect(revoked.stdout).toContain("city.pem: revoked");
    expect(revoked.stdout).toMatch(/Reason: keyCompromise/);
    expect((await ocsp("firm.pem")).stdout).toContain("firm.pem: good");
    writeFileSync(path.join(dir, "crl.der"), await get("pki/crl"));
    const crl = await openssl(["crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text"], { cwd: dir });
    expect(crl.stdout.replace(/\s/g, "")).toContain(`SerialNumber:${toCity!.certificate_serial!.toUpperCase()}`);
    // The membership has ended, its key is gone, and the holder was told; twice is an error.
    const [cityAfter] = await membershipsOf(MIREN.dni);
    expect(cityAfter!.state).toBe("ended");
    expect((await lastMessageTo(t!, MIREN.email, "pro")).text).toContain(toCity!.certificate_serial!);
    const twice = await revoke({ reason: "keyCompromise" });
    expect(twice.statusCode).toBe(409);
    expect(twice.body).toContain("This certificate is not in force");
  });
});
