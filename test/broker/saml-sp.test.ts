import { createRequire } from "node:module";
import { inflateRawSync } from "node:zlib";
import { SignedXml } from "xml-crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putUpstream } from "../../src/federation/broker/upstreams.ts";
import { findTenant } from "../../src/tenants/service.ts";
import { httpBrowser, type Page } from "../helpers/http-browser.ts";
import { type OidcTestApp, oidcTestApp } from "../helpers/oidc.ts";
import { type KeyPair, newKeyPair } from "../helpers/saml.ts";

/**
 * The university's SAML service provider (SPID profile) against an identity provider that is not
 * Tessera's: samlify in the IdP role. It parses and verifies the AuthnRequests Tessera signs, and
 * answers with assertions it signs itself; then every kind of bad answer a broker must refuse is
 * tried: forged, unsigned, replayed, for another audience, for another request, expired, at a lower
 * level than asked, without the codice fiscale, and wrapped around a second assertion.
 */
/**
 * samlify, loaded without its type declarations: they pull in a second xmldom whose types load the
 * DOM library into the whole project. What the test uses of it is declared here.
 */
interface SamlifyEntity {
  getMetadata(): string;
}
interface SamlifyIdp extends SamlifyEntity {
  parseLoginRequest(sp: SamlifyEntity, binding: "redirect", request: { query: Record<string, string>; octetString: string }): Promise<{ extract: unknown }>;
  createLoginResponse(sp: SamlifyEntity, request: object, binding: "post", user: object, options: { customTagReplacement: (template: string) => { id: string; context: string } }): Promise<{ context: string }>;
}
const samlify = createRequire(import.meta.url)("samlify") as {
  setSchemaValidator(validator: { validate(xml: string): Promise<string> }): void;
  IdentityProvider(settings: object): SamlifyIdp;
  ServiceProvider(settings: { metadata: string }): SamlifyEntity;
};
// samlify validates incoming XML against the SAML schemas with a pluggable validator; the
// requests it checks here are Tessera's, whose own tests cover their form.
samlify.setSchemaValidator({ validate: () => Promise.resolve("skipped") });

const IDP = "https://idp.example.test/metadata";
const SSO = "https://idp.example.test/sso";
const SPID_L = (n: number) => `https://www.spid.gov.it/SpidL${n}`;
const FISCAL = "VRDLCU90H55F205X";

let t: OidcTestApp;
let keys: KeyPair;
let idp: SamlifyIdp;
let sp: SamlifyEntity;
let requestUrl: string | undefined;

function identityProvider(k: KeyPair) {
  return samlify.IdentityProvider({
    entityID: IDP,
    privateKey: k.privateKeyPem,
    signingCert: k.certificatePem,
    wantAuthnRequestsSigned: true,
    nameIDFormat: ["urn:oasis:names:tc:SAML:2.0:nameid-format:transient"],
    singleSignOnService: [{ Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", Location: SSO }],
  });
}

beforeAll(async () => {
  t = await oidcTestApp();
  keys = await newKeyPair(2048, "CN=idp.example.test, O=Test IdP, C=IT");
  idp = identityProvider(keys);
  const university = (await findTenant(t.store.repos, "university"))!;
  await putUpstream(t.deps, university, { id: "test-idp", protocol: "saml", scheme: "spid", displayName: "Test IdP", metadata: idp.getMetadata() }, { actor: "test" });
  sp = samlify.ServiceProvider({ metadata: await (await fetch(`${t.baseUrl}/t/university/saml/sp/metadata`)).text() });
});
afterAll(async () => t?.close());

/** "Entra con SPID" at the test IdP: the browser, and the AuthnRequest as samlify read it (its signature verified). */
async function startSignIn() {
  const browser = httpBrowser(t.baseUrl);
  const left = await browser.go(`${t.baseUrl}/t/university/login/upstream/test-idp`);
  expect(left.status).toBe(0);
  const url = new URL(left.url);
  expect(url.origin + url.pathname).toBe(SSO);
  const query = Object.fromEntries(url.searchParams) as Record<string, string>;
  const { extract } = await idp.parseLoginRequest(sp, "redirect", { query, octetString: url.search.slice(1).split("&Signature=")[0]! });
  requestUrl = left.url;
  return { browser, extract: extract as { request: { id: string }; issuer: string } };
}

interface Answer {
  inResponseTo?: string;
  audience?: string;
  level?: number;
  notOnOrAfter?: Date;
  fiscalNumber?: string | null;
  status?: string;
  statusMessage?: string;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/** The Response XML as samlify's template has it, with the SPID parts filled in. */
function responseXml(a: Answer & { id: string; assertionId: string }): string {
  const now = new Date();
  const until = a.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000);
  const acs = `${t.baseUrl}/t/university/saml/sp/acs`;
  const attributes = [
    ...(a.fiscalNumber === null ? [] : [["fiscalNumber", a.fiscalNumber ?? `TINIT-${FISCAL}`]]),
    ["name", "Lucia"],
    ["familyName", "Verdi"],
    ["email", "lucia.verdi@example.it"],
  ]
    .map(([name, value]) => `<saml:Attribute Name="${name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue xsi:type="xs:string">${value}</saml:AttributeValue></saml:Attribute>`)
    .join("");
  const status = a.status ?? "urn:oasis:names:tc:SAML:2.0:status:Success";
  const success = status.endsWith(":Success");
  return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${a.id}" Version="2.0" IssueInstant="${iso(now)}" Destination="${acs}" InResponseTo="${a.inResponseTo}"><saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${IDP}</saml:Issuer><samlp:Status><samlp:StatusCode Value="${status}"/>${a.statusMessage ? `<samlp:StatusMessage>${a.statusMessage}</samlp:StatusMessage>` : ""}</samlp:Status>${
    success
      ? `<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${a.assertionId}" Version="2.0" IssueInstant="${iso(now)}"><saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${IDP}</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" NameQualifier="${IDP}">_transient-${a.assertionId}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${iso(until)}" Recipient="${acs}" InResponseTo="${a.inResponseTo}"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="${iso(now)}" NotOnOrAfter="${iso(until)}"><saml:AudienceRestriction><saml:Audience>${a.audience ?? `${t.baseUrl}/t/university/saml/sp`}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="_s-${a.assertionId}"><saml:AuthnContext><saml:AuthnContextClassRef>${SPID_L(a.level ?? 2)}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>${attributes}</saml:AttributeStatement></saml:Assertion>`
      : ""
  }</samlp:Response>`;
}

let serial = 0;
/**
 * samlify signs a success (the assertion: the service provider wants it signed); a refusal, which
 * has none, is signed whole with xml-crypto as an IdP would.
 */
async function signedAnswer(by: SamlifyIdp, a: Answer, k: KeyPair = keys): Promise<string> {
  const ids = { id: `_r${++serial}${Date.now()}`, assertionId: `_a${serial}${Date.now()}` };
  if (a.status) {
    const signer = new SignedXml({ privateKey: k.privateKeyPem, publicCert: k.certificatePem, signatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", canonicalizationAlgorithm: "http://www.w3.org/2001/10/xml-exc-c14n#" });
    signer.addReference({ xpath: "/*[local-name(.)='Response']", digestAlgorithm: "http://www.w3.org/2001/04/xmlenc#sha256", transforms: ["http://www.w3.org/2000/09/xmldsig#enveloped-signature", "http://www.w3.org/2001/10/xml-exc-c14n#"] });
    signer.computeSignature(responseXml({ ...a, inResponseTo: a.inResponseTo ?? "", ...ids }), { location: { reference: "/*[local-name(.)='Response']/*[local-name(.)='Issuer']", action: "after" } });
    return Buffer.from(signer.getSignedXml()).toString("base64");
  }
  const { context } = await by.createLoginResponse(sp, { extract: { request: { id: a.inResponseTo } } }, "post", {}, { customTagReplacement: () => ({ id: ids.id, context: responseXml({ ...a, ...ids }) }) });
  return context;
}

const post = (browser: ReturnType<typeof httpBrowser>, samlResponse: string) => browser.go(`${t.baseUrl}/t/university/saml/sp/acs`, { form: { SAMLResponse: samlResponse } });
const errorShown = (page: Page) => /<div class="error-summary"[\s\S]*?<li><a[^>]*>([^<]+)<\/a>/.exec(page.html)?.[1] ?? /<main[\s\S]*?<p>([^<]+)<\/p>/.exec(page.html)?.[1];

describe("the broker's SAML service provider, against samlify as the identity provider", () => {
  it("signs its AuthnRequests as SPID asks, and signs a new user in from a valid assertion: codice persona, then a password", async () => {
    const { browser, extract } = await startSignIn();
    expect(extract.issuer).toBe(`${t.baseUrl}/t/university/saml/sp`);
    const request = inflateRawSync(Buffer.from(new URL(requestUrl!).searchParams.get("SAMLRequest")!, "base64")).toString();
    expect(request).toContain(`<saml:AuthnContextClassRef>${SPID_L(2)}</saml:AuthnContextClassRef>`);
    expect(request).toMatch(/ForceAuthn="true"/);
    expect(request).toMatch(/<samlp:RequestedAuthnContext Comparison="minimum">/);
    const page = await post(browser, await signedAnswer(idp, { inResponseTo: extract.request.id }));
    expect(page.status).toBe(200);
    expect(page.url).toMatch(/\/t\/university\/login\/[^/]+$/);
    expect(page.html).toContain("codice persona");
    const account = await t.store.repos.accounts.findByFiscalCode("university", "identity", FISCAL);
    expect(account).toMatchObject({ given_name: "Lucia", family_name: "Verdi", fiscal_code: FISCAL });
    expect(account!.fiscal_code_verified_at).not.toBeNull();
    expect(account!.identifier).toMatch(/^\d{8}$/);
  });

  const refusals: [string, (id: string) => Promise<string>, RegExp][] = [
    ["forged (signed with another key)", async (id) => signedAnswer(identityProvider(await newKeyPair(2048, "CN=evil.example.test")), { inResponseTo: id }), /could not be accepted/],
    ["a refusal signed with another key", async (id) => signedAnswer(idp, { inResponseTo: id, status: "urn:oasis:names:tc:SAML:2.0:status:Responder", statusMessage: "ErrorCode nr22" }, await newKeyPair(2048, "CN=evil.example.test")), /could not be accepted/],
    ["unsigned", async (id) => Buffer.from(responseXml({ inResponseTo: id, id: "_unsigned1", assertionId: "_unsigned2" })).toString("base64"), /could not be accepted/],
    ["for another audience", (id) => signedAnswer(idp, { inResponseTo: id, audience: "https://other-sp.example.test/metadata" }), /could not be accepted/],
    ["expired", (id) => signedAnswer(idp, { inResponseTo: id, notOnOrAfter: new Date(Date.now() - 10 * 60_000) }), /too late/],
    ["at level 1 when level 2 was asked", (id) => signedAnswer(idp, { inResponseTo: id, level: 1 }), /lower level/],
    ["without the codice fiscale", (id) => signedAnswer(idp, { inResponseTo: id, fiscalNumber: null }), /did not send your codice fiscale/],
    ["a signed refusal: the user would not share the data (ErrorCode nr22)", (id) => signedAnswer(idp, { inResponseTo: id, status: "urn:oasis:names:tc:SAML:2.0:status:Responder", statusMessage: "ErrorCode nr22" }), /did not agree to share/],
  ];
  for (const [name, make, message] of refusals) {
    it(`refuses an answer ${name}, saying so with a way back`, async () => {
      const { browser, extract } = await startSignIn();
      const before = await t.store.db.selectFrom("sessions").select("id").execute();
      const page = await post(browser, await make(extract.request.id));
      expect(page.status).toBe(400);
      expect(errorShown(page)).toMatch(message);
      expect(page.html).toContain(">Back to sign-in<");
      expect(await t.store.db.selectFrom("sessions").select("id").execute()).toEqual(before);
    });
  }

  it("refuses a replayed answer, an answer taken to another browser, and one wrapped around a second assertion", async () => {
    const first = await startSignIn();
    const answer = await signedAnswer(idp, { inResponseTo: first.extract.request.id });
    expect((await post(first.browser, answer)).status).toBe(200);
    // The same answer again is nobody's any more.
    const replayed = await post(first.browser, answer);
    expect(replayed.status).toBe(400);
    expect(replayed.html).toContain("not, or no longer, under way");
    // An answer stolen and posted from another browser signs nobody in there: the flow is bound to the first.
    const victim = await startSignIn();
    const stolen = await post(httpBrowser(t.baseUrl), await signedAnswer(idp, { inResponseTo: victim.extract.request.id }));
    expect(stolen.status).toBe(403);

    const third = await startSignIn();
    const valid = Buffer.from(await signedAnswer(idp, { inResponseTo: third.extract.request.id }), "base64").toString();
    // The signed assertion hidden in an Extensions element, an unsigned evil one in its place.
    const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(valid)![0];
    const evil = signed.replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/, "").replace(/ID="[^"]+"/, 'ID="_evil"').replace("Lucia", "Mallory");
    const wrapped = valid.replace(signed, `<samlp:Extensions>${signed}</samlp:Extensions>${evil}`);
    const page = await post(third.browser, Buffer.from(wrapped).toString("base64"));
    expect(page.status).toBe(400);
    expect(errorShown(page)).toMatch(/could not be accepted/);
  });

  it("refuses what answers no request of this tenant at all", async () => {
    const page = await post(httpBrowser(t.baseUrl), await signedAnswer(idp, { inResponseTo: "_never-sent" }));
    expect(page.status).toBe(400);
    expect(page.html).toContain("not, or no longer, under way");
  });
});
