import { afterEach, describe, expect, it } from "vitest";
import { member, PASSWORD } from "../helpers/flows.ts";
import { httpBrowser } from "../helpers/http-browser.ts";
import { type OidcTestApp, oidcTestApp } from "../helpers/oidc.ts";
import { ACS, idpCertificate, newKeyPair, nodeSamlSp, postedForm, registerSp, SP_ENTITY, SPID_L, spMetadata, TRANSIENT, xmlsecVerify } from "../helpers/saml.ts";

let t: OidcTestApp;
afterEach(async () => {
  await t?.close();
});

const mario = {
  identifier: "mario.rossi@example.it",
  email: "mario.rossi@example.it",
  emailVerified: true,
  phone: "+393331119002",
  phoneVerified: true,
  givenName: "Mario",
  familyName: "Rossi",
  sex: "M" as const,
  birthDate: "1980-01-01",
  birthPlace: "H501",
  countyOfBirth: "RM",
  fiscalCode: "RSSMRA80A01H501U",
  spidCode: "TESS0000000077",
};

/** The app, Mario with a password, and node-saml registered as the national tenant's service provider. */
async function scene() {
  t = await oidcTestApp();
  await member(t, "national", mario);
  const keys = await newKeyPair();
  await registerSp(t, "national", spMetadata({ certificateBase64: keys.certificateBase64 }));
  return nodeSamlSp(t.baseUrl, "national", keys);
}

describe("SAML single sign-on with node-saml as the service provider", () => {
  it("signs in through the login pages and the attribute consent; node-saml and xmlsec1 accept the response", async () => {
    const sp = await scene();
    const browser = httpBrowser(t.baseUrl);

    const url = await sp.getAuthorizeUrlAsync("relay-1", undefined, {});
    let page = await browser.go(url);
    expect(new URL(page.url).pathname).toBe("/t/national/login");
    page = await browser.submit(page, /\/login$/, { identifier: mario.identifier, password: PASSWORD });
    expect(page.html).toContain("Comune di Esempio asks for your data");
    expect(page.html).toContain("RSSMRA80A01H501U");
    page = await browser.submit(page, /\/consent$/, { decision: "allow" });
    const form = postedForm(page.html);
    expect(form.action).toBe(ACS);
    expect(form.fields.RelayState).toBe("relay-1");

    const { profile } = await sp.validatePostResponseAsync(form.fields);
    expect(profile).toMatchObject({ nameIDFormat: TRANSIENT, issuer: `${t.baseUrl}/t/national`, fiscalNumber: "TINIT-RSSMRA80A01H501U", name: "Mario", familyName: "Rossi", spidCode: "TESS0000000077", dateOfBirth: "1980-01-01", email: mario.email });
    expect(profile!.getAssertionXml!()).toContain(SPID_L(1));

    const xml = Buffer.from(form.fields.SAMLResponse!, "base64").toString();
    const { certificatePem, metadata } = await idpCertificate(t.baseUrl, "national");
    const verified = await xmlsecVerify(xml, certificatePem, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion");
    expect(verified.output).toContain("OK");
    expect(verified.ok).toBe(true);
    const meta = await xmlsecVerify(metadata, certificatePem, "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor");
    expect(meta.ok, meta.output).toBe(true);
    void SP_ENTITY;
  });

  it("answers a signed-in browser at once, recording the request with its answer, and refuses the same request again (nr13)", async () => {
    const sp = await scene();
    const browser = httpBrowser(t.baseUrl);
    let page = await browser.go(await sp.getAuthorizeUrlAsync("first", undefined, {}));
    page = await browser.submit(page, /\/login$/, { identifier: mario.identifier, password: PASSWORD });
    page = await browser.submit(page, /\/consent$/, { decision: "allow" });
    expect(postedForm(page.html).fields.RelayState).toBe("first");

    // Signed in, consent given: the next request is answered by the SSO endpoint itself.
    const url = await sp.getAuthorizeUrlAsync("second", undefined, {});
    const answered = await browser.go(url);
    expect(new URL(answered.url).pathname).toBe("/t/national/saml/sso");
    const form = postedForm(answered.html);
    const { profile } = await sp.validatePostResponseAsync(form.fields);
    expect(profile).toMatchObject({ fiscalNumber: "TINIT-RSSMRA80A01H501U", inResponseTo: expect.any(String) });
    const requests = await t.store.db.selectFrom("saml_requests").select(["request_id", "answered_at"]).where("request_id", "=", profile!.inResponseTo as string).execute();
    expect(requests).toEqual([{ request_id: profile!.inResponseTo, answered_at: expect.any(Number) }]);
    const sessions = await t.store.db.selectFrom("saml_sessions").select("session_index").execute();

    // The same request again: a replay, answered with an error and recording nothing more.
    const again = postedForm((await browser.go(url)).html);
    const replayed = Buffer.from(again.fields.SAMLResponse!, "base64").toString();
    expect(replayed).toContain("ErrorCode nr13");
    expect(await t.store.db.selectFrom("saml_sessions").select("session_index").execute()).toEqual(sessions);
    const audited = await t.store.db.selectFrom("audit_entries").select("type").where("type", "like", "saml.%").execute();
    expect(audited.filter((a) => a.type === "saml.authorized")).toHaveLength(2);
  });
});
