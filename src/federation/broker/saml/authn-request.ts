import { deflateRawSync } from "node:zlib";
import { SPID_ACR, type Level } from "../../../identity/levels.ts";
import { TRANSIENT } from "../../saml/checks/name-id-policy.ts";
import type { SamlCredential } from "../../saml/credential.ts";
import { signElement, signRedirectQuery } from "../../saml/signature.ts";
import { el, NS, startTag } from "../../saml/xml.ts";
import type { IdpDescription } from "./idp-metadata.ts";
import { ACS_INDEX, ATTRIBUTE_SET_INDEX, type SpEndpoints } from "./sp-metadata.ts";

/**
 * A signed AuthnRequest of the SPID profile (Regole tecniche §1.2.2.1): its ID (which the answer's
 * InResponseTo must name), IssueInstant in UTC without fractions, Destination the IdP's SSO
 * endpoint, the ACS and attribute set by index, the Issuer with NameQualifier and entity Format,
 * a transient NameIDPolicy, and the level asked as `minimum` (ForceAuthn above level 1, as SPID
 * requires). Sent by HTTP-Redirect (the query signed) where the IdP offers it, else by HTTP-POST
 * (an enveloped signature).
 */
export type Outgoing = { binding: "redirect"; url: string } | { binding: "post"; url: string; fields: Record<string, string> };

export async function authnRequest(
  input: { id: string; now: number; level: Level; relayState: string },
  sp: SpEndpoints,
  idp: IdpDescription,
  credential: SamlCredential,
): Promise<Outgoing> {
  const destination = idp.ssoRedirect ?? idp.ssoPost!;
  const attrs = {
    "xmlns:samlp": NS.samlp,
    "xmlns:saml": NS.saml,
    ID: input.id,
    Version: "2.0",
    IssueInstant: new Date(input.now).toISOString().replace(/\.\d{3}Z$/, "Z"),
    Destination: destination,
    ...(input.level > 1 ? { ForceAuthn: "true" } : {}),
    AssertionConsumerServiceIndex: String(ACS_INDEX),
    AttributeConsumingServiceIndex: String(ATTRIBUTE_SET_INDEX),
  };
  const issuer = el("saml:Issuer", { NameQualifier: sp.entityId, Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity" }, sp.entityId);
  const body =
    el("samlp:NameIDPolicy", { Format: TRANSIENT }) +
    el("samlp:RequestedAuthnContext", { Comparison: "minimum" }, el("saml:AuthnContextClassRef", {}, SPID_ACR[input.level])) +
    "</samlp:AuthnRequest>";
  const head = startTag("samlp:AuthnRequest", attrs) + issuer;
  if (idp.ssoRedirect) {
    const query = await signRedirectQuery("SAMLRequest", deflateRawSync(head + body).toString("base64"), input.relayState, credential);
    return { binding: "redirect", url: `${idp.ssoRedirect}${idp.ssoRedirect.includes("?") ? "&" : "?"}${query}` };
  }
  const signed = await signElement({ id: input.id, head, tail: body }, credential);
  return { binding: "post", url: idp.ssoPost!, fields: { SAMLRequest: Buffer.from(signed).toString("base64"), RelayState: input.relayState } };
}
