import type { Element } from "@xmldom/xmldom";
import { type Level, levelFromAcr } from "../../../identity/levels.ts";
import { isSigned, SignatureRejected, verifyEnveloped } from "../../saml/enveloped.ts";
import { attribute, childNamed, childrenNamed, isElement, MAX_MESSAGE_BYTES, NS, parseXml, textOf, XmlRejected } from "../../saml/xml.ts";
import { fiscalCodeOf, type UpstreamFailure, type UpstreamIdentity } from "../../../identity/upstream-identity.ts";
import type { IdpDescription } from "./idp-metadata.ts";

/**
 * Checking an upstream's SAML Response at the assertion consumer service, strictly (SAML core §3.2.2
 * and §2.3–2.7, profiles §4.1.4.3; SPID Regole tecniche §1.2.2.2 and the SPID validator's checks):
 * the rules below run in order and the first that fails decides. The assertion must be signed by
 * the upstream, and only the bytes its signature covers are read; a signed Response must verify
 * too; the answer must be to a request this tenant sent (InResponseTo), for this ACS
 * (Destination, Recipient), for this service provider (Audience), now (IssueInstant, NotBefore,
 * NotOnOrAfter, within the tenant's clock skew), at the level asked for or above. Replays are
 * the caller's (the assertion's ID, kept until it expires).
 */
export class ResponseRejected extends Error {
  constructor(readonly failure: UpstreamFailure) {
    super(failure.detail);
    this.name = "ResponseRejected";
  }
}

export interface ResponseExpectations {
  requestId: string;
  upstreamId: string;
  scheme: UpstreamIdentity["scheme"];
  idp: IdpDescription;
  spEntityId: string;
  acsUrl: string;
  level: Level;
  now: number;
  skewMs: number;
}

export interface AcceptedAssertion {
  id: string;
  /** Until when the assertion could be presented: how long its ID must be remembered. */
  notOnOrAfter: number;
  identity: UpstreamIdentity;
}

const SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";

const invalid = (detail: string): never => {
  throw new ResponseRejected({ code: "upstream.invalid_answer", detail });
};

/** The Response element as posted, and the ID its InResponseTo names: what finds the request it answers. */
export function readResponse(form: Record<string, unknown>): { xml: string; response: Element; inResponseTo: string } {
  const value = form.SAMLResponse;
  if (typeof value !== "string" || !/^[A-Za-z0-9+/=\r\n]+$/.test(value)) return invalid("no SAMLResponse, or not Base64");
  const raw = Buffer.from(value, "base64");
  if (raw.length > MAX_MESSAGE_BYTES) invalid("the SAMLResponse is too large");
  const xml = raw.toString("utf8");
  let response: Element;
  try {
    response = parseXml(xml).documentElement!;
  } catch (error) {
    if (error instanceof XmlRejected) return invalid(`the Response is not acceptable XML: ${error.message}`);
    throw error;
  }
  if (!isElement(response, NS.samlp, "Response")) invalid("the message is not a samlp:Response");
  const inResponseTo = attribute(response, "InResponseTo");
  if (!inResponseTo) invalid("the Response has no InResponseTo");
  return { xml, response, inResponseTo: inResponseTo! };
}

function instant(value: string | undefined, what: string): number {
  // xs:dateTime in UTC (SPID: "Z", with or without fractions).
  if (!value || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) return invalid(`${what} is not a UTC dateTime`);
  return Date.parse(value);
}

function checkIssuer(element: Element, idp: IdpDescription, what: string): void {
  const issuers = childrenNamed(element, NS.saml, "Issuer");
  if (issuers.length !== 1 || textOf(issuers[0]) !== idp.entityId) invalid(`the ${what}'s Issuer is not ${idp.entityId}`);
  const format = attribute(issuers[0]!, "Format");
  if (format !== undefined && format !== ENTITY) invalid(`the ${what}'s Issuer Format is not entity`);
}

function checkInstant(element: Element, e: ResponseExpectations, what: string): void {
  const at = instant(attribute(element, "IssueInstant"), `the ${what}'s IssueInstant`);
  if (Math.abs(at - e.now) > e.skewMs) invalid(`the ${what}'s IssueInstant is too far from now`);
  if (attribute(element, "Version") !== "2.0") invalid(`the ${what}'s Version is not 2.0`);
  if (!attribute(element, "ID")) invalid(`the ${what} has no ID`);
}

function verified(element: Element, xml: string, idp: IdpDescription, what: string): string {
  try {
    return verifyEnveloped(element, xml, idp.certificates);
  } catch (error) {
    if (error instanceof SignatureRejected) return invalid(error.problem === "unsigned" ? `the ${what} is not signed` : error.message);
    throw error;
  }
}

/** "ErrorCode nr19" and the like, as SPID identity providers put it in StatusMessage. */
function spidErrorCode(status: Element): number | undefined {
  const match = /ErrorCode nr(\d{2})/.exec(textOf(childNamed(status, NS.samlp, "StatusMessage")) ?? "");
  return match ? Number(match[1]) : undefined;
}

/** The user gave up at the IdP, or the IdP would not sign them in: what to tell them. */
function refusal(code: number | undefined): UpstreamFailure {
  if (code === 25) return { code: "upstream.cancelled", detail: "the user cancelled at the identity provider (ErrorCode nr25)", spidCode: 25 };
  return { code: "upstream.refused", detail: `the identity provider did not sign the user in${code ? ` (ErrorCode nr${code})` : ""}`, ...(code ? { spidCode: code } : {}) };
}

function attributeValues(assertion: Element): Map<string, string> {
  const values = new Map<string, string>();
  for (const statement of childrenNamed(assertion, NS.saml, "AttributeStatement")) {
    for (const a of childrenNamed(statement, NS.saml, "Attribute")) {
      const name = attribute(a, "Name");
      const value = textOf(childNamed(a, NS.saml, "AttributeValue"));
      if (name && value !== undefined) values.set(name, value.trim());
    }
  }
  return values;
}

export function checkResponse(xml: string, response: Element, e: ResponseExpectations): AcceptedAssertion {
  // The Response: to our request, for our ACS, from the upstream, now; its signature, if any, good.
  if (attribute(response, "InResponseTo") !== e.requestId) invalid("InResponseTo does not name the request");
  if (attribute(response, "Destination") !== e.acsUrl) invalid("the Response's Destination is not this ACS");
  checkInstant(response, e, "Response");
  checkIssuer(response, e.idp, "Response");
  if (isSigned(response)) verified(response, xml, e.idp, "Response");

  const status = childNamed(response, NS.samlp, "Status");
  const statusCode = status && childNamed(status, NS.samlp, "StatusCode");
  if (!status || !statusCode) invalid("the Response has no StatusCode");
  if (attribute(statusCode!, "Value") !== SUCCESS) {
    // Only a signed refusal is believed: an unsigned one could be anyone's, to spoil a sign-in.
    if (!isSigned(response)) invalid("an unsigned Response that is not a success");
    throw new ResponseRejected(refusal(spidErrorCode(status!)));
  }

  // One assertion, signed by the upstream; from here on only what its signature covers is read.
  if (childrenNamed(response, NS.saml, "EncryptedAssertion").length > 0) invalid("encrypted assertions are not accepted");
  const assertions = childrenNamed(response, NS.saml, "Assertion");
  if (assertions.length !== 1) invalid("the Response must carry exactly one Assertion");
  const signedXml = verified(assertions[0]!, xml, e.idp, "Assertion");
  const assertion = parseXml(signedXml).documentElement!;
  if (!isElement(assertion, NS.saml, "Assertion")) invalid("the signed element is not the Assertion");
  checkInstant(assertion, e, "Assertion");
  checkIssuer(assertion, e.idp, "Assertion");

  // Subject: a NameID, confirmed as bearer for this request, at this ACS, still valid.
  const subject = childNamed(assertion, NS.saml, "Subject");
  const nameId = subject && textOf(childNamed(subject, NS.saml, "NameID"));
  if (!subject || !nameId) invalid("the Assertion has no Subject NameID");
  const confirmation = childrenNamed(subject!, NS.saml, "SubjectConfirmation").find((c) => attribute(c, "Method") === BEARER);
  const data = confirmation && childNamed(confirmation, NS.saml, "SubjectConfirmationData");
  if (!data) invalid("the Subject has no bearer SubjectConfirmationData");
  if (attribute(data!, "Recipient") !== e.acsUrl) invalid("SubjectConfirmationData's Recipient is not this ACS");
  if (attribute(data!, "InResponseTo") !== e.requestId) invalid("SubjectConfirmationData's InResponseTo does not name the request");
  const confirmUntil = instant(attribute(data!, "NotOnOrAfter"), "SubjectConfirmationData's NotOnOrAfter");
  if (e.now - e.skewMs >= confirmUntil) throw new ResponseRejected({ code: "upstream.expired", detail: "the assertion's SubjectConfirmationData has expired" });

  // Conditions: now, and for this service provider.
  const conditions = childNamed(assertion, NS.saml, "Conditions");
  if (!conditions) invalid("the Assertion has no Conditions");
  const notBefore = instant(attribute(conditions!, "NotBefore"), "Conditions' NotBefore");
  const notOnOrAfter = instant(attribute(conditions!, "NotOnOrAfter"), "Conditions' NotOnOrAfter");
  if (notBefore > e.now + e.skewMs) invalid("the assertion is not valid yet");
  if (e.now - e.skewMs >= notOnOrAfter) throw new ResponseRejected({ code: "upstream.expired", detail: "the assertion's Conditions have expired" });
  const audiences = childrenNamed(conditions!, NS.saml, "AudienceRestriction").flatMap((r) => childrenNamed(r, NS.saml, "Audience").map((a) => textOf(a)));
  if (!audiences.includes(e.spEntityId)) invalid(`the assertion's Audience is not ${e.spEntityId}`);

  // The level the upstream vouches for, at least the one asked for.
  const statement = childNamed(assertion, NS.saml, "AuthnStatement");
  const context = statement && childNamed(statement, NS.saml, "AuthnContext");
  const level = levelFromAcr(textOf(context && childNamed(context, NS.saml, "AuthnContextClassRef")) ?? "");
  if (level === undefined) invalid("the AuthnStatement names no SPID level");
  if (level! < e.level) throw new ResponseRejected({ code: "upstream.level_not_met", detail: `asked for SpidL${e.level}, the assertion states SpidL${level}` });

  const values = attributeValues(assertion);
  const fiscalCode = fiscalCodeOf(values.get("fiscalNumber"));
  if (!fiscalCode) throw new ResponseRejected({ code: "upstream.no_fiscal_code", detail: "the assertion carries no fiscalNumber" });
  return {
    id: attribute(assertion, "ID")!,
    notOnOrAfter: Math.max(notOnOrAfter, confirmUntil),
    identity: {
      upstreamId: e.upstreamId,
      scheme: e.scheme,
      level: level!,
      fiscalCode,
      givenName: values.get("name") ?? null,
      familyName: values.get("familyName") ?? null,
      email: values.get("email") ?? null,
      subject: nameId!,
    },
  };
}
