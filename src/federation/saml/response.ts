import { randomBytes } from "node:crypto";
import type { Level } from "../../identity/levels.ts";
import { SPID_ACR } from "../../identity/levels.ts";
import type { SamlCredential } from "./credential.ts";
import { SPID_ATTRIBUTES, type SpidAttribute } from "./attributes.ts";
import { STATUS, type SpidError } from "./errors.ts";
import { TRANSIENT } from "./checks/name-id-policy.ts";
import { signElement } from "./signature.ts";
import { el, NS, startTag, text } from "./xml.ts";

/**
 * Responses to AuthnRequests (SAML core §3.3.3, SPID Regole tecniche §1.2.2.2), written in
 * canonical form and signed without a parse (signature.ts). A successful Response carries one
 * Assertion, signed: transient NameID, bearer confirmation for the ACS, audience, the level
 * reached and exactly the attributes of the requested set. An error Response carries no
 * assertion and is itself signed.
 */
export const ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";

/** SAML identifiers: `_` and 160 random bits (SAML core §1.3.4: at least 128). */
export const samlId = () => `_${randomBytes(20).toString("hex")}`;
/** xs:dateTime in UTC, whole seconds. */
export const instant = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * The Issuer. Exclusive canonicalisation renders a namespace declaration on the first element
 * that uses its prefix: an Issuer directly under a samlp: element declares saml: itself; inside
 * an Assertion, which declares it, it must not.
 */
export const issuerElement = (entityId: string, declare: boolean) =>
  el("saml:Issuer", { ...(declare ? { "xmlns:saml": NS.saml } : {}), Format: ENTITY, NameQualifier: entityId }, text(entityId));

export interface Addressee {
  /** The ACS the Response is posted to. */
  destination: string;
  /** The request answered, when its ID was readable. */
  inResponseTo: string | undefined;
}

export interface AssertionInput extends Addressee {
  idpEntityId: string;
  spEntityId: string;
  now: number;
  validForMs: number;
  nameId: string;
  sessionIndex: string;
  authnInstant: number;
  level: Level;
  attributes: { name: SpidAttribute; value: string }[];
}

/**
 * The start of a protocol message to `addressee` (a Response or LogoutResponse): its start tag
 * and Issuer. The Status and the end tag follow; a signature goes after the Issuer.
 */
function messageHead(element: "samlp:Response" | "samlp:LogoutResponse", idpEntityId: string, addressee: Addressee, now: number, id: string): string {
  const attrs = {
    "xmlns:samlp": NS.samlp,
    ID: id,
    Version: "2.0",
    IssueInstant: instant(now),
    Destination: addressee.destination,
    InResponseTo: addressee.inResponseTo,
  };
  return startTag(element, attrs) + issuerElement(idpEntityId, true);
}

/** A successful Response with its signed Assertion, serialized. */
export async function successResponse(input: AssertionInput, credential: SamlCredential): Promise<string> {
  const assertionId = samlId();
  const notOnOrAfter = instant(input.now + input.validForMs);
  const head = startTag("saml:Assertion", { "xmlns:saml": NS.saml, "xmlns:xs": NS.xs, "xmlns:xsi": NS.xsi, ID: assertionId, Version: "2.0", IssueInstant: instant(input.now) }) + issuerElement(input.idpEntityId, false);
  const subject = el("saml:Subject", {}, [
    el("saml:NameID", { Format: TRANSIENT, NameQualifier: input.idpEntityId }, text(input.nameId)),
    el(
      "saml:SubjectConfirmation",
      { Method: BEARER },
      el("saml:SubjectConfirmationData", { InResponseTo: input.inResponseTo, NotOnOrAfter: notOnOrAfter, Recipient: input.destination }),
    ),
  ]);
  const conditions = el("saml:Conditions", { NotBefore: instant(input.now), NotOnOrAfter: notOnOrAfter }, el("saml:AudienceRestriction", {}, el("saml:Audience", {}, text(input.spEntityId))));
  const authn = el(
    "saml:AuthnStatement",
    { AuthnInstant: instant(input.authnInstant), SessionIndex: input.sessionIndex },
    el("saml:AuthnContext", {}, el("saml:AuthnContextClassRef", {}, SPID_ACR[input.level])),
  );
  const attributes = input.attributes.length
    ? el(
        "saml:AttributeStatement",
        {},
        input.attributes.map(({ name, value }) =>
          el("saml:Attribute", { Name: name, NameFormat: BASIC }, el("saml:AttributeValue", { "xsi:type": `xs:${SPID_ATTRIBUTES[name]}` }, text(value))),
        ),
      )
    : "";
  const assertion = await signElement({ id: assertionId, head, tail: subject + conditions + authn + attributes + "</saml:Assertion>", inclusivePrefixes: "xs xsi" }, credential);
  return messageHead("samlp:Response", input.idpEntityId, input, input.now, samlId()) + statusElement(STATUS.success) + assertion + "</samlp:Response>";
}

function statusElement(code: string, subCode?: string, message?: string): string {
  return el("samlp:Status", {}, [
    el("samlp:StatusCode", { Value: code }, subCode ? el("samlp:StatusCode", { Value: subCode }) : ""),
    message ? el("samlp:StatusMessage", {}, text(message)) : "",
  ]);
}

/** An error Response (no assertion), signed, with "ErrorCode nrNN" as StatusMessage. */
export async function errorResponse(idpEntityId: string, addressee: Addressee, error: SpidError, now: number, credential: SamlCredential): Promise<string> {
  const id = samlId();
  const spec = error.spec as { status: string; subStatus?: string };
  return signElement(
    { id, head: messageHead("samlp:Response", idpEntityId, addressee, now, id), tail: statusElement(spec.status, spec.subStatus, error.statusMessage) + "</samlp:Response>" },
    credential,
  );
}

/** A LogoutResponse (SAML core §3.7.2), signed when it goes by POST (the Redirect binding signs the query). */
export async function logoutResponse(
  idpEntityId: string,
  addressee: Addressee,
  status: { code: string; subCode?: string; message?: string },
  now: number,
  credential: SamlCredential,
  sign: boolean,
): Promise<string> {
  const id = samlId();
  const head = messageHead("samlp:LogoutResponse", idpEntityId, addressee, now, id);
  const tail = statusElement(status.code, status.subCode, status.message) + "</samlp:LogoutResponse>";
  return sign ? signElement({ id, head, tail }, credential) : head + tail;
}
