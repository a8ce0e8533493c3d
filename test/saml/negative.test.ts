import { randomBytes, sign } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { deflateRawSync } from "node:zlib";
import { DOMParser, type Element } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OidcTestApp, oidcTestApp } from "../helpers/oidc.ts";
import { ACS, ACS_2, idpCertificate, type KeyPair, newKeyPair, postedForm, registerSp, SP_ENTITY, SPID_L, spMetadata, TRANSIENT } from "../helpers/saml.ts";

/**
 * The SAML IdP's answers to crafted, faulty AuthnRequests (SPID "Tabella messaggi di anomalia").
 * Each request is built and signed here as a service provider would, so that every case differs
 * from a request the IdP accepts (proved first) by the one fault it is about.
 *
 * - Refused (nr04–nr07, nr10): the sender is not known to be the service provider, so the user
 *   sees an error page with HTTP 403 and nothing is posted to the service provider.
 * - Answered (nr08, nr09, nr11–nr18): a signed samlp:Response with the SPID status codes and
 *   StatusMessage "ErrorCode nrNN", posted to the ACS the request validly named (else the default).
 *
 * The expected status codes are written out here rather than read from src/, so that the test
 * checks errors.ts rather than repeating it.
 */

const NS = {
  samlp: "urn:oasis:names:tc:SAML:2.0:protocol",
  saml: "urn:oasis:names:tc:SAML:2.0:assertion",
  ds: "http://www.w3.org/2000/09/xmldsig#",
  spid: "https://spid.gov.it/saml-extensions",
} as const;
const ALG = {
  rsaSha256: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  rsaSha1: "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
  sha256: "http://www.w3.org/2001/04/xmlenc#sha256",
  sha1: "http://www.w3.org/2000/09/xmldsig#sha1",
  excC14n: "http://www.w3.org/2001/10/xml-exc-c14n#",
  enveloped: "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
} as const;
const BINDING = {
  post: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
  redirect: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
} as const;
const ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";

const STATUS = {
  requester: "urn:oasis:names:tc:SAML:2.0:status:Requester",
  responder: "urn:oasis:names:tc:SAML:2.0:status:Responder",
  versionMismatch: "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
  requestUnsupported: "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported",
  noAuthnContext: "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext",
  noPassive: "urn:oasis:names:tc:SAML:2.0:status:NoPassive",
  invalidNameIdPolicy: "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy",
} as const;

/** Top-level and second-level StatusCode of each answered ErrorCode (AgID's table). */
const ANSWERED_STATUS: Record<number, { status: string; subStatus?: string }> = {
  8: { status: STATUS.requester, subStatus: STATUS.requestUnsupported },
  9: { status: STATUS.versionMismatch },
  11: { status: STATUS.requester, subStatus: STATUS.requestUnsupported },
  12: { status: STATUS.responder, subStatus: STATUS.noAuthnContext },
  13: { status: STATUS.requester, subStatus: STATUS.requestUnsupported },
  14: { status: STATUS.requester, subStatus: STATUS.requestUnsupported },
  15: { status: STATUS.responder, subStatus: STATUS.noPassive },
  16: { status: STATUS.requester, subStatus: STATUS.requestUnsupported },
  17: { status: STATUS.requester, subStatus: STATUS.invalidNameIdPolicy },
  18: { status: STATUS.requester, subStatus: STATUS.requestUnsupported },
};

let t: OidcTestApp;
let sp: KeyPair;
/** A key the service provider's metadata does not name. */
let stranger: KeyPair;
let idpCertPem: string;

beforeAll(async () => {
  t = await oidcTestApp();
  [sp, stranger] = await Promise.all([newKeyPair(), newKeyPair()]);
  await registerSp(t, "national", spMetadata({ certificateBase64: sp.certificateBase64 }));
  idpCertPem = (await idpCertificate(t.baseUrl, "national")).certificatePem;
});
afterAll(async () => {
  await t?.close();
});

const ssoUrl = () => `${t.baseUrl}/t/national/saml/sso`;
const newId = () => `_${randomBytes(16).toString("hex")}`;
/** xs:dateTime in UTC without milliseconds, as SPID service providers write it. */
const instant = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const pad = (code: number) => String(code).padStart(2, "0");

// ---------------------------------------------------------------------------------------------
// Building requests

interface RequestSpec {
  /** Overrides of the root's attributes; `undefined` leaves the attribute out. */
  attrs?: Record<string, string | undefined>;
  /** The Issuer element as written, or null for none. */
  issuer?: string | null;
  /** The children after the Issuer (an enveloped signature goes between the two). */
  children?: string[];
}

const issuer = (entityId = SP_ENTITY, format: string | null = ENTITY) => `<saml:Issuer${format === null ? "" : ` Format="${format}"`}>${entityId}</saml:Issuer>`;
const nameIdPolicy = (format = TRANSIENT) => `<samlp:NameIDPolicy Format="${format}"/>`;
const requestedAuthnContext = (classRef = SPID_L(1), comparison: string | null = "minimum") =>
  `<samlp:RequestedAuthnContext${comparison === null ? "" : ` Comparison="${comparison}"`}><saml:AuthnContextClassRef>${classRef}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>`;
const purpose = (value: string) => `<samlp:Extensions><spid:Purpose xmlns:spid="${NS.spid}">${value}</spid:Purpose></samlp:Extensions>`;

/** A valid SPID AuthnRequest, but for what `spec` changes. */
function authnRequest(spec: RequestSpec = {}): { id: string | undefined; xml: string } {
  const attrs: Record<string, string | undefined> = {
    ID: newId(),
    Version: "2.0",
    IssueInstant: instant(Date.now()),
    Destination: ssoUrl(),
    AssertionConsumerServiceIndex: "0",
    AttributeConsumingServiceIndex: "0",
    ...spec.attrs,
  };
  const rendered = Object.entries(attrs)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ` ${name}="${value}"`)
    .join("");
  const head = spec.issuer === undefined ? issuer() : (spec.issuer ?? "");
  const children = spec.children ?? [nameIdPolicy(), requestedAuthnContext()];
  return { id: attrs.ID, xml: `<samlp:AuthnRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}"${rendered}>${head}${children.join("")}</samlp:AuthnRequest>` };
}

// ---------------------------------------------------------------------------------------------
// HTTP-Redirect binding (SAML bindings §3.4.4.1): the signature covers the URL-encoded query.

interface RedirectOptions {
  relayState?: string;
  /** False: no SigAlg, no Signature. */
  signed?: boolean;
  key?: string;
  sigAlg?: string;
  hash?: string;
}

const deflated = (xml: string) => deflateRawSync(Buffer.from(xml, "utf8")).toString("base64");

/** The query string for a SAMLRequest value (Base64, not yet URL-encoded), signed by default. */
function redirectQuery(samlRequest: string, options: RedirectOptions = {}): string {
  let query = `SAMLRequest=${encodeURIComponent(samlRequest)}`;
  if (options.relayState !== undefined) query += `&RelayState=${encodeURIComponent(options.relayState)}`;
  if (options.signed === false) return query;
  query += `&SigAlg=${encodeURIComponent(options.sigAlg ?? ALG.rsaSha256)}`;
  const signature = sign(options.hash ?? "sha256", Buffer.from(query), options.key ?? sp.privateKeyPem);
  return `${query}&Signature=${encodeURIComponent(signature.toString("base64"))}`;
}

const getSso = (query: string) => fetch(`${ssoUrl()}?${query}`, { redirect: "manual", headers: { "accept-language": "en" } });
const sendRedirect = (xml: string, options: RedirectOptions = {}) => getSso(redirectQuery(deflated(xml), options));

// ---------------------------------------------------------------------------------------------
// HTTP-POST binding (§3.5.4): an enveloped signature after the Issuer.

interface EnvelopedOptions {
  key?: string;
  signatureAlgorithm?: string;
  digestAlgorithm?: string;
  /** What the Reference points at: the root (default) or another element. */
  xpath?: string;
  /** Reference URI="" (the whole document) instead of the root's ID. */
  emptyUri?: boolean;
}

const ISSUER_XPATH = `/*/*[local-name(.)='Issuer' and namespace-uri(.)='${NS.saml}']`;

function signEnveloped(xml: string, options: EnvelopedOptions = {}): string {
  const signer = new SignedXml({ privateKey: options.key ?? sp.privateKeyPem, signatureAlgorithm: options.signatureAlgorithm ?? ALG.rsaSha256, canonicalizationAlgorithm: ALG.excC14n });
  signer.addReference({ xpath: options.xpath ?? "/*", transforms: [ALG.enveloped, ALG.excC14n], digestAlgorithm: options.digestAlgorithm ?? ALG.sha256, isEmptyUri: options.emptyUri ?? false });
  // Without an Issuer (nr10 cases) the schema's place after it does not exist: first child, then.
  const location = xml.includes("<saml:Issuer") ? { reference: ISSUER_XPATH, action: "after" as const } : { reference: "/*", action: "prepend" as const };
  signer.computeSignature(xml, { prefix: "ds", location });
  return signer.getSignedXml();
}

/** The ds:Signature element of a signed document, as written. */
const signatureOf = (signed: string) => /<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(signed)![0];

const base64 = (xml: string) => Buffer.from(xml, "utf8").toString("base64");
const postSso = (fields: [string, string][], method = "POST") =>
  fetch(ssoUrl(), { method, body: new URLSearchParams(fields), redirect: "manual", headers: { "accept-language": "en" } });

interface PostOptions extends EnvelopedOptions {
  relayState?: string;
  /** False: posted as is. */
  signed?: boolean;
}

function postFields(xml: string, options: PostOptions = {}): [string, string][] {
  const message = options.signed === false ? xml : signEnveloped(xml, options);
  return [["SAMLRequest", base64(message)], ...(options.relayState !== undefined ? [["RelayState", options.relayState] as [string, string]] : [])];
}
const sendPost = (xml: string, options: PostOptions = {}) => postSso(postFields(xml, options));

type BindingName = "redirect" | "post";
const send = (binding: BindingName, xml: string, relayState?: string) => (binding === "redirect" ? sendRedirect(xml, { relayState }) : sendPost(xml, { relayState }));

// ---------------------------------------------------------------------------------------------
// Expected answers

function childElements(parent: Element, ns: string, name: string): Element[] {
  const out: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).namespaceURI === ns && (node as Element).localName === name) out.push(node as Element);
  }
  return out;
}

/** The request was taken in: the browser goes on to sign in (Redirect) or to the ticket (POST). */
async function expectAccepted(res: Response, binding: BindingName) {
  const body = await res.text();
  expect(res.status, body.slice(0, 1500)).toBe(303);
  const location = new URL(res.headers.get("location")!, t.baseUrl);
  if (binding === "redirect") {
    expect(location.pathname).toBe("/t/national/login");
    expect(location.searchParams.get("return_to")).toMatch(/^\/t\/national\/saml\/sso\/[^/]+$/);
  } else {
    expect(location.pathname).toMatch(/^\/t\/national\/saml\/sso\/[^/]+$/);
  }
}

/** Refused on an error page: nothing goes back to the (unverified) sender. */
async function expectRefused(res: Response, code: number) {
  const page = await res.text();
  expect(res.status, page.slice(0, 1500)).toBe(403);
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("location")).toBeNull();
  expect(page).toContain(`(ErrorCode nr${pad(code)}):`);
  expect(page).not.toContain('id="saml-post"');
  expect(page).not.toContain("SAMLResponse");
  expect(page).not.toMatch(/<form[^>]+action="http:\/\/localhost:4200/);
}

/**
 * The IdP's signature on a Response verifies with the certificate of its metadata and covers the
 * Response element itself (not some other element that happens to carry an ID).
 */
function verifyIdpSignature(xml: string): Element {
  const root = new DOMParser().parseFromString(xml, "text/xml").documentElement!;
  const signatures = childElements(root, NS.ds, "Signature");
  expect(signatures).toHaveLength(1);
  const verifier = new SignedXml({ publicCert: idpCertPem, getCertFromKeyInfo: () => null });
  verifier.loadSignature(signatures[0]!);
  expect(verifier.checkSignature(xml)).toBe(true);
  expect(verifier.getReferences().map((r) => r.uri)).toEqual([`#${root.getAttribute("ID")}`]);
  return root;
}

/** Answered with a signed error Response posted to `acs`. */
async function expectAnswered(res: Response, code: number, to: { acs?: string; inResponseTo: string | undefined; relayState?: string }) {
  const page = await res.text();
  expect(res.status, page.slice(0, 1500)).toBe(200);
  const form = postedForm(page);
  const acs = to.acs ?? ACS;
  expect(form.action).toBe(acs);
  expect(form.fields.RelayState).toBe(to.relayState);
  const xml = Buffer.from(form.fields.SAMLResponse!, "base64").toString("utf8");
  const root = verifyIdpSignature(xml);
  expect(root.namespaceURI).toBe(NS.samlp);
  expect(root.localName).toBe("Response");
  expect(root.getAttribute("Destination")).toBe(acs);
  if (to.inResponseTo === undefined) expect(root.hasAttribute("InResponseTo"), "no InResponseTo for an unreadable ID").toBe(false);
  else expect(root.getAttribute("InResponseTo")).toBe(to.inResponseTo);
  expect(childElements(root, NS.saml, "Assertion")).toHaveLength(0);

  const status = childElements(root, NS.samlp, "Status")[0]!;
  const top = childElements(status, NS.samlp, "StatusCode");
  expect(top).toHaveLength(1);
  const second = childElements(top[0]!, NS.samlp, "StatusCode");
  const expected = ANSWERED_STATUS[code]!;
  expect({ status: top[0]!.getAttribute("Value"), subStatus: second[0]?.getAttribute("Value") }).toEqual(expected);
  expect(second.length).toBeLessThanOrEqual(1);
  expect(childElements(status, NS.samlp, "StatusMessage").map((m) => m.textContent)).toEqual([`ErrorCode nr${pad(code)}`]);
}

// ---------------------------------------------------------------------------------------------

describe("SAML SSO: valid requests are accepted (what every negative case departs from)", () => {
  const accepted: { name: string; spec: () => RequestSpec; relayState?: string }[] = [
    { name: "the baseline request (ACS index 0, attribute set 0, SpidL1 minimum)", spec: () => ({}) },
    { name: "ACS index 1", spec: () => ({ attrs: { AssertionConsumerServiceIndex: "1" } }) },
    { name: "ACS by URL and HTTP-POST ProtocolBinding", spec: () => ({ attrs: { AssertionConsumerServiceIndex: undefined, AssertionConsumerServiceURL: ACS_2, ProtocolBinding: BINDING.post } }) },
    { name: "RelayState of exactly 80 bytes", spec: () => ({}), relayState: "r".repeat(80) },
    // The SPID rules allow the IdP's entityID as Destination, SAML its SSO endpoint.
    { name: "Destination is the identity provider's entityID", spec: () => ({ attrs: { Destination: `${t.baseUrl}/t/national` } }) },
    // Just under the 64 KiB limit (comments are not signed content, and the schema check skips them).
    { name: "a request padded to 60 KiB", spec: () => ({ children: [nameIdPolicy(), `<!--${"x".repeat(60 * 1024)}-->`, requestedAuthnContext()] }) },
  ];
  for (const binding of ["redirect", "post"] as const) {
    it.each(accepted)(`${binding}: $name`, async ({ spec, relayState }) => {
      await expectAccepted(await send(binding, authnRequest(spec()).xml, relayState), binding);
    });
  }
});

// Nested entity expansion ("billion laughs"): refused before any parse, whatever the parser would do.
const LAUGHS = `<?xml version="1.0"?><!DOCTYPE samlp:AuthnRequest [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? "" : i};`.repeat(10)}">`).join("")}]>`;

/** A valid request with `ProviderName="&lol9;"` under the billion-laughs DTD. */
function billionLaughs(signedPost: boolean): string {
  const { xml } = authnRequest({ attrs: { ProviderName: "PLACEHOLDER" } });
  // For POST the signature is computed before the DTD goes in: the DTD must be refused first.
  return LAUGHS + (signedPost ? signEnveloped(xml) : xml).replace('ProviderName="PLACEHOLDER"', 'ProviderName="&lol9;"');
}

/** A request with an external entity in Extensions (XXE), pointing at `url`. */
function externalEntity(url: string): string {
  const { xml } = authnRequest({ children: [`<samlp:Extensions><x:Leak xmlns:x="urn:example:x">&xxe;</x:Leak></samlp:Extensions>`, nameIdPolicy(), requestedAuthnContext()] });
  return `<?xml version="1.0"?><!DOCTYPE samlp:AuthnRequest [<!ENTITY xxe SYSTEM "${url}">]>${xml}`;
}

/** A padding comment that takes the decoded request past 64 KiB. */
const oversized = () => authnRequest({ children: [nameIdPolicy(), `<!--${"x".repeat(65 * 1024)}-->`, requestedAuthnContext()] }).xml;

const LOGOUT_REQUEST = () =>
  `<samlp:LogoutRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${newId()}" Version="2.0" IssueInstant="${instant(Date.now())}" Destination="${ssoUrl()}">${issuer()}<saml:NameID Format="${TRANSIENT}">_x</saml:NameID></samlp:LogoutRequest>`;

/**
 * Signature wrapping (XSW): the SP's signed request A is hidden inside samlp:Extensions of a
 * root the attacker wrote (asking for ACS index 1), with the signature moved onto that root.
 * `rootId` is the root's ID: another one (the signature references A, not the root) or A's own
 * (two elements then carry the signed ID).
 */
function wrapped(rootId: "other" | "same"): string {
  const original = authnRequest();
  const signature = signatureOf(signEnveloped(original.xml));
  const evil = authnRequest({
    attrs: { ID: rootId === "same" ? original.id : newId(), AssertionConsumerServiceIndex: "1" },
    children: [`<samlp:Extensions>${original.xml}</samlp:Extensions>`, nameIdPolicy(), requestedAuthnContext()],
  });
  return evil.xml.replace("</saml:Issuer>", `</saml:Issuer>${signature}`);
}

interface RefusedCase {
  name: string;
  code: 4 | 5 | 6 | 7 | 10;
  send: () => Promise<Response>;
}

const refused: RefusedCase[] = [
  // nr07: no signature, or one whose algorithm is not accepted.
  { name: "Redirect without SigAlg and Signature", code: 7, send: () => sendRedirect(authnRequest().xml, { signed: false }) },
  {
    name: "Redirect with SigAlg but no Signature",
    code: 7,
    send: () => getSso(redirectQuery(deflated(authnRequest().xml), { signed: false }) + `&SigAlg=${encodeURIComponent(ALG.rsaSha256)}`),
  },
  { name: "POST without an enveloped signature", code: 7, send: () => sendPost(authnRequest().xml, { signed: false }) },
  { name: "Redirect signed with rsa-sha1", code: 7, send: () => sendRedirect(authnRequest().xml, { sigAlg: ALG.rsaSha1, hash: "sha1" }) },
  { name: "POST signed with rsa-sha1", code: 7, send: () => sendPost(authnRequest().xml, { signatureAlgorithm: ALG.rsaSha1 }) },
  { name: "POST with a sha1 digest", code: 7, send: () => sendPost(authnRequest().xml, { digestAlgorithm: ALG.sha1 }) },
  {
    // The literal reading of "wrapped, unsigned root": the root carries no signature at all, so
    // it is an unsigned request (nr07), whatever is signed further down.
    name: "POST: signed request wrapped in Extensions of an unsigned root",
    code: 7,
    send: () => {
      const signed = signEnveloped(authnRequest().xml);
      return sendPost(authnRequest({ attrs: { AssertionConsumerServiceIndex: "1" }, children: [`<samlp:Extensions>${signed}</samlp:Extensions>`, nameIdPolicy(), requestedAuthnContext()] }).xml, { signed: false });
    },
  },

  // nr05: a signature that does not verify, or does not cover the request as received.
  { name: "Redirect signed by a key not in the metadata", code: 5, send: () => sendRedirect(authnRequest().xml, { key: stranger.privateKeyPem }) },
  { name: "POST signed by a key not in the metadata", code: 5, send: () => sendPost(authnRequest().xml, { key: stranger.privateKeyPem }) },
  { name: "Redirect query tampered with after signing (RelayState)", code: 5, send: () => getSso(redirectQuery(deflated(authnRequest().xml), { relayState: "one" }).replace("RelayState=one", "RelayState=two")) },
  {
    name: "Redirect with the SAMLRequest swapped after signing",
    code: 5,
    send: () => {
      const query = redirectQuery(deflated(authnRequest().xml));
      return getSso(query.replace(/^SAMLRequest=[^&]+/, `SAMLRequest=${encodeURIComponent(deflated(authnRequest({ attrs: { AssertionConsumerServiceIndex: "1" } }).xml))}`));
    },
  },
  {
    name: "POST with the XML tampered with after signing",
    code: 5,
    send: () => postSso([["SAMLRequest", base64(signEnveloped(authnRequest().xml).replace('AttributeConsumingServiceIndex="0"', 'AttributeConsumingServiceIndex="1"'))]]),
  },
  {
    name: "POST with two Signatures",
    code: 5,
    send: () => {
      const signed = signEnveloped(authnRequest().xml);
      const signature = signatureOf(signed);
      return postSso([["SAMLRequest", base64(signed.replace(signature, signature + signature))]]);
    },
  },
  { name: "XSW: signature moved onto a root with another ID, signed request in Extensions", code: 5, send: () => postSso([["SAMLRequest", base64(wrapped("other"))]]) },
  { name: "XSW: root and wrapped signed request carry the same ID", code: 5, send: () => postSso([["SAMLRequest", base64(wrapped("same"))]]) },
  {
    // Signed as it stands, so only the duplicate ID is wrong.
    name: "POST: a second element (in Extensions) with the root's ID, both signed",
    code: 5,
    send: () => {
      const id = newId();
      const { xml } = authnRequest({ attrs: { ID: id }, children: [`<samlp:Extensions><x:Twin xmlns:x="urn:example:x" ID="${id}"/></samlp:Extensions>`, nameIdPolicy(), requestedAuthnContext()] });
      return sendPost(xml);
    },
  },
  { name: "POST: the Reference points at the Issuer, not the request", code: 5, send: () => sendPost(authnRequest().xml, { xpath: ISSUER_XPATH }) },
  { name: 'POST: the Reference URI is "" (the whole document)', code: 5, send: () => sendPost(authnRequest().xml, { emptyUri: true }) },
  // A signature can only reference an element by its ID: without one, nothing is known signed.
  { name: "POST without an ID", code: 5, send: () => sendPost(authnRequest({ attrs: { ID: undefined } }).xml, { emptyUri: true }) },

  // nr04: the binding's format.
  { name: "Redirect: DOCTYPE with nested entities (billion laughs)", code: 4, send: () => sendRedirect(billionLaughs(false)) },
  { name: "POST: DOCTYPE with nested entities (billion laughs)", code: 4, send: () => postSso([["SAMLRequest", base64(billionLaughs(true))]]) },
  { name: "Redirect: external entity (XXE)", code: 4, send: () => sendRedirect(externalEntity("file:///etc/passwd")) },
  { name: "POST: external entity (XXE)", code: 4, send: () => postSso([["SAMLRequest", base64(externalEntity("file:///etc/passwd"))]]) },
  { name: "Redirect: decoded message over 64 KiB", code: 4, send: () => sendRedirect(oversized()) },
  { name: "POST: decoded message over 64 KiB (signed)", code: 4, send: () => sendPost(oversized()) },
  { name: "Redirect: SAMLRequest is not Base64", code: 4, send: () => getSso(redirectQuery("@@not*base64@@")) },
  { name: "POST: SAMLRequest is not Base64", code: 4, send: () => postSso([["SAMLRequest", "@@not*base64@@"]]) },
  { name: "Redirect: Base64 of XML that was never DEFLATE-compressed", code: 4, send: () => getSso(redirectQuery(base64(authnRequest().xml))) },
  { name: "Redirect: DEFLATE of text that is not XML", code: 4, send: () => getSso(redirectQuery(deflated("this is not XML"))) },
  { name: "POST: text that is not XML", code: 4, send: () => postSso([["SAMLRequest", base64("this is not XML")]]) },
  { name: "Redirect: unclosed XML", code: 4, send: () => sendRedirect(authnRequest().xml.replace("</samlp:AuthnRequest>", "")) },
  { name: "Redirect: the root is a samlp:LogoutRequest", code: 4, send: () => sendRedirect(LOGOUT_REQUEST()) },
  { name: "Redirect: the root is AuthnRequest in no namespace", code: 4, send: () => sendRedirect(authnRequest().xml.replace(/samlp:AuthnRequest/g, "AuthnRequest")) },
  { name: "Redirect without SAMLRequest", code: 4, send: () => getSso(`RelayState=x`) },
  {
    name: "Redirect with SAMLRequest twice",
    code: 4,
    send: () => {
      const encoded = encodeURIComponent(deflated(authnRequest().xml));
      return getSso(`SAMLRequest=${encoded}&${redirectQuery(deflated(authnRequest().xml))}`);
    },
  },
  {
    name: "POST with SAMLRequest twice",
    code: 4,
    send: () => {
      const [first] = postFields(authnRequest().xml);
      return postSso([first!, ...postFields(authnRequest().xml)]);
    },
  },
  { name: "Redirect: RelayState of 81 bytes", code: 4, send: () => sendRedirect(authnRequest().xml, { relayState: "r".repeat(81) }) },
  // 41 characters but 82 bytes in UTF-8: the limit is in bytes.
  { name: "Redirect: RelayState of 41 two-byte characters", code: 4, send: () => sendRedirect(authnRequest().xml, { relayState: "è".repeat(41) }) },
  { name: "POST: RelayState of 81 bytes", code: 4, send: () => sendPost(authnRequest().xml, { relayState: "r".repeat(81) }) },

  // nr06: the HTTP method does not fit the binding.
  {
    name: "POST carrying the Redirect binding's SigAlg and Signature",
    code: 6,
    send: () => postSso([...postFields(authnRequest().xml), ["SigAlg", ALG.rsaSha256], ["Signature", "AAAA"]]),
  },
  { name: "PUT with a valid signed request", code: 6, send: () => postSso(postFields(authnRequest().xml), "PUT") },
  { name: "DELETE", code: 6, send: () => postSso(postFields(authnRequest().xml), "DELETE") },
  { name: "PATCH", code: 6, send: () => postSso(postFields(authnRequest().xml), "PATCH") },

  // nr10: the Issuer names no registered service provider (checked before the signature, whose key it selects).
  { name: "Redirect without Issuer", code: 10, send: () => sendRedirect(authnRequest({ issuer: null }).xml) },
  { name: "POST without Issuer", code: 10, send: () => sendPost(authnRequest({ issuer: null }).xml) },
  { name: "Redirect with an empty Issuer", code: 10, send: () => sendRedirect(authnRequest({ issuer: issuer("") }).xml) },
  { name: "Redirect with an unknown Issuer", code: 10, send: () => sendRedirect(authnRequest({ issuer: issuer("https://unknown.example.it/metadata") }).xml) },
  { name: "POST with an unknown Issuer", code: 10, send: () => sendPost(authnRequest({ issuer: issuer("https://unknown.example.it/metadata") }).xml) },
  { name: "Redirect with Issuer Format persistent (not entity)", code: 10, send: () => sendRedirect(authnRequest({ issuer: issuer(SP_ENTITY, PERSISTENT) }).xml) },
  { name: "POST with Issuer Format persistent (not entity)", code: 10, send: () => sendPost(authnRequest({ issuer: issuer(SP_ENTITY, PERSISTENT) }).xml) },
  { name: "Redirect with two Issuers", code: 10, send: () => sendRedirect(authnRequest({ issuer: issuer() + issuer() }).xml) },
];

describe("SAML SSO: requests refused on an error page (HTTP 403)", () => {
  it.each(refused.map((c) => ({ ...c, nr: `nr${pad(c.code)}` })))("$nr: $name", async ({ send: sendIt, code }) => {
    await expectRefused(await sendIt(), code);
  });

  it("nr04: an external entity pointing at a server is never fetched", async () => {
    const hits: string[] = [];
    const listener: Server = createServer((req, res) => {
      hits.push(req.url ?? "");
      res.end("leaked");
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/xxe`;
      await expectRefused(await sendRedirect(externalEntity(url)), 4);
      await expectRefused(await postSso([["SAMLRequest", base64(externalEntity(url))]]), 4);
      expect(hits).toEqual([]);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});

interface AnsweredCase {
  name: string;
  code: number;
  spec: () => RequestSpec;
  /** Where the answer goes: ACS (the default) unless the request validly named another. */
  acs?: string;
  /** The request's ID is not an xs:ID: the answer cannot say what it answers. */
  noInResponseTo?: boolean;
}

const tenMinutes = 10 * 60_000;

const answered: AnsweredCase[] = [
  // nr08: not schema-valid.
  { name: "an unknown child element", code: 8, spec: () => ({ children: [nameIdPolicy(), "<samlp:Unexpected/>", requestedAuthnContext()] }) },
  {
    name: "RequestedAuthnContext before NameIDPolicy (ACS index 1)",
    code: 8,
    spec: () => ({ attrs: { AssertionConsumerServiceIndex: "1" }, children: [requestedAuthnContext(), nameIdPolicy()] }),
    acs: ACS_2,
  },
  { name: "NameIDPolicy twice", code: 8, spec: () => ({ children: [nameIdPolicy(), nameIdPolicy(), requestedAuthnContext()] }) },
  { name: 'ForceAuthn="maybe"', code: 8, spec: () => ({ attrs: { ForceAuthn: "maybe" } }) },
  { name: 'IsPassive="maybe" (not a boolean, before nr15)', code: 8, spec: () => ({ attrs: { IsPassive: "maybe" } }) },
  { name: "an attribute AuthnRequest does not have", code: 8, spec: () => ({ attrs: { Unexpected: "1" } }) },
  { name: "text between the children", code: 8, spec: () => ({ children: [nameIdPolicy(), "stray text", requestedAuthnContext()] }) },
  { name: 'spid:Purpose "XX" in Extensions', code: 8, spec: () => ({ children: [purpose("XX"), nameIdPolicy(), requestedAuthnContext()] }) },
  { name: 'spid:Purpose "XX" in Extensions (ACS index 1)', code: 8, spec: () => ({ attrs: { AssertionConsumerServiceIndex: "1" }, children: [purpose("XX"), nameIdPolicy(), requestedAuthnContext()] }), acs: ACS_2 },

  // nr09: Version.
  { name: 'Version="1.1" (ACS index 1)', code: 9, spec: () => ({ attrs: { Version: "1.1", AssertionConsumerServiceIndex: "1" } }), acs: ACS_2 },
  { name: "Version missing", code: 9, spec: () => ({ attrs: { Version: undefined } }) },

  // nr11: ID.
  { name: "ID starting with a digit", code: 11, spec: () => ({ attrs: { ID: `1${randomBytes(16).toString("hex")}` } }), noInResponseTo: true },

  // nr13: IssueInstant (the replay is its own test below).
  { name: "IssueInstant missing", code: 13, spec: () => ({ attrs: { IssueInstant: undefined } }) },
  {
    // The right instant, written in local time with an offset: SAML wants UTC ("Z").
    name: "IssueInstant with a +01:00 offset",
    code: 13,
    spec: () => ({ attrs: { IssueInstant: `${new Date(Date.now() + 3_600_000).toISOString().slice(0, 19)}+01:00` } }),
  },
  { name: "IssueInstant 10 minutes old (ACS index 1)", code: 13, spec: () => ({ attrs: { IssueInstant: instant(Date.now() - tenMinutes), AssertionConsumerServiceIndex: "1" } }), acs: ACS_2 },
  { name: "IssueInstant 10 minutes in the future", code: 13, spec: () => ({ attrs: { IssueInstant: instant(Date.now() + tenMinutes) } }) },

  // nr14: Destination.
  { name: "Destination missing", code: 14, spec: () => ({ attrs: { Destination: undefined } }) },
  { name: "Destination is the tenant's SLO endpoint", code: 14, spec: () => ({ attrs: { Destination: `${t.baseUrl}/t/national/saml/slo` } }) },
  { name: "Destination is another tenant's SSO endpoint (ACS index 1)", code: 14, spec: () => ({ attrs: { Destination: `${t.baseUrl}/t/university/saml/sso`, AssertionConsumerServiceIndex: "1" } }), acs: ACS_2 },

  // nr15: IsPassive, whatever its value.
  { name: 'IsPassive="true"', code: 15, spec: () => ({ attrs: { IsPassive: "true" } }) },
  { name: 'IsPassive="false" (ACS index 1)', code: 15, spec: () => ({ attrs: { IsPassive: "false", AssertionConsumerServiceIndex: "1" } }), acs: ACS_2 },

  // nr16: AssertionConsumerService; the answer goes to the default ACS.
  { name: "both ACS index and ACS URL", code: 16, spec: () => ({ attrs: { AssertionConsumerServiceIndex: "1", AssertionConsumerServiceURL: ACS_2, ProtocolBinding: BINDING.post } }) },
  { name: "neither ACS index nor ACS URL", code: 16, spec: () => ({ attrs: { AssertionConsumerServiceIndex: undefined } }) },
  { name: "ACS index 7 (not in the metadata)", code: 16, spec: () => ({ attrs: { AssertionConsumerServiceIndex: "7" } }) },
  { name: 'ACS index "x"', code: 16, spec: () => ({ attrs: { AssertionConsumerServiceIndex: "x" } }) },
  {
    name: "ACS URL not in the metadata",
    code: 16,
    spec: () => ({ attrs: { AssertionConsumerServiceIndex: undefined, AssertionConsumerServiceURL: "http://localhost:4200/elsewhere", ProtocolBinding: BINDING.post } }),
  },
  { name: "ACS URL without ProtocolBinding", code: 16, spec: () => ({ attrs: { AssertionConsumerServiceIndex: undefined, AssertionConsumerServiceURL: ACS_2 } }) },
  { name: "ProtocolBinding HTTP-Redirect", code: 16, spec: () => ({ attrs: { AssertionConsumerServiceIndex: undefined, AssertionConsumerServiceURL: ACS_2, ProtocolBinding: BINDING.redirect } }) },

  // nr17: NameIDPolicy.
  { name: "NameIDPolicy missing", code: 17, spec: () => ({ children: [requestedAuthnContext()] }) },
  { name: "NameIDPolicy Format persistent (ACS index 1)", code: 17, spec: () => ({ attrs: { AssertionConsumerServiceIndex: "1" }, children: [nameIdPolicy(PERSISTENT), requestedAuthnContext()] }), acs: ACS_2 },

  // nr18: AttributeConsumingServiceIndex.
  { name: "AttributeConsumingServiceIndex 9 (not in the metadata)", code: 18, spec: () => ({ attrs: { AttributeConsumingServiceIndex: "9" } }) },
  { name: 'AttributeConsumingServiceIndex "x" (ACS index 1)', code: 18, spec: () => ({ attrs: { AttributeConsumingServiceIndex: "x", AssertionConsumerServiceIndex: "1" } }), acs: ACS_2 },

  // nr12: RequestedAuthnContext (this IdP offers SpidL1 and SpidL2).
  { name: "RequestedAuthnContext missing", code: 12, spec: () => ({ children: [nameIdPolicy()] }) },
  { name: "SpidL3, exact (not offered)", code: 12, spec: () => ({ children: [nameIdPolicy(), requestedAuthnContext(SPID_L(3), "exact")] }) },
  { name: "SpidL3, no Comparison (exact by default)", code: 12, spec: () => ({ children: [nameIdPolicy(), requestedAuthnContext(SPID_L(3), null)] }) },
  { name: 'Comparison="sideways"', code: 12, spec: () => ({ children: [nameIdPolicy(), requestedAuthnContext(SPID_L(1), "sideways")] }) },
  {
    name: "a non-SPID AuthnContextClassRef (ACS by URL: ACS_2)",
    code: 12,
    spec: () => ({
      attrs: { AssertionConsumerServiceIndex: undefined, AssertionConsumerServiceURL: ACS_2, ProtocolBinding: BINDING.post },
      children: [nameIdPolicy(), requestedAuthnContext("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")],
    }),
    acs: ACS_2,
  },
];

describe.each(["redirect", "post"] as const)("SAML SSO over %s: requests answered to the service provider with a signed error Response", (binding) => {
  it.each(answered.map((c) => ({ ...c, nr: `nr${pad(c.code)}` })))("$nr: $name", async ({ spec, code, acs, noInResponseTo }) => {
    const { id, xml } = authnRequest(spec());
    const relayState = `rs-${randomBytes(4).toString("hex")}`;
    await expectAnswered(await send(binding, xml, relayState), code, { acs, inResponseTo: noInResponseTo ? undefined : id, relayState });
  });

  it("nr13: the same request twice (replay), the second answered", async () => {
    const { id, xml } = authnRequest({ attrs: { AssertionConsumerServiceIndex: "1" } });
    if (binding === "redirect") {
      const query = redirectQuery(deflated(xml), { relayState: "replayed" });
      await expectAccepted(await getSso(query), binding);
      await expectAnswered(await getSso(query), 13, { acs: ACS_2, inResponseTo: id, relayState: "replayed" });
    } else {
      const fields = postFields(xml, { relayState: "replayed" });
      await expectAccepted(await postSso(fields), binding);
      await expectAnswered(await postSso(fields), 13, { acs: ACS_2, inResponseTo: id, relayState: "replayed" });
    }
  });
});

describe("SAML SSO: faults the bindings see differently", () => {
  // Over Redirect the query is signed, so a request without ID is verified and then answered;
  // over POST it is refused (nr05, in the table above): no ID, nothing to reference.
  it("Redirect: nr11 for a request without ID, answered without InResponseTo", async () => {
    await expectAnswered(await sendRedirect(authnRequest({ attrs: { ID: undefined } }).xml), 11, { inResponseTo: undefined });
  });

  it("nr13: a request ID replayed across bindings (Redirect, then POST)", async () => {
    const { id, xml } = authnRequest();
    await expectAccepted(await sendRedirect(xml), "redirect");
    await expectAnswered(await sendPost(xml), 13, { inResponseTo: id });
  });
});

describe("SAML SSO: HEAD", () => {
  // A prefetcher's HEAD must not use the request's ID up: the user's GET that follows is accepted.
  it("refuses HEAD (nr06, 403) without recording the request", async () => {
    const query = redirectQuery(deflated(authnRequest().xml), { relayState: "head" });
    const head = await fetch(`${ssoUrl()}?${query}`, { method: "HEAD", redirect: "manual" });
    expect(head.status).toBe(403);
    const get = await getSso(query);
    expect(get.status).toBe(303);
    expect(get.headers.get("location")).toMatch(/^\/t\/national\/login\?/);
  });
});
