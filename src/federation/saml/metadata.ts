import { SPID_ATTRIBUTES } from "./attributes.ts";
import type { SamlCredential } from "./credential.ts";
import { TRANSIENT } from "./checks/name-id-policy.ts";
import { samlId } from "./response.ts";
import { BINDING } from "./service-provider.ts";
import { signElement } from "./signature.ts";
import { el, NS, startTag, text } from "./xml.ts";

/**
 * The identity provider's metadata (SAML metadata §2.4.3; SPID Regole tecniche §1.3.2): signed
 * requests wanted, the signing certificate, transient NameIDs, SSO and SLO over HTTP-Redirect and
 * HTTP-POST, the SPID attributes it can release, and the organisation. The document is itself
 * signed (RSA-SHA256) with the same key.
 */
export interface IdpDescription {
  entityId: string;
  ssoUrl: string;
  sloUrl: string;
  organization: { name: string; url: string; locale: string };
}

export async function identityProviderMetadata(idp: IdpDescription, credential: SamlCredential): Promise<string> {
  const id = samlId();
  const head = startTag("md:EntityDescriptor", { "xmlns:md": NS.md, ID: id, entityID: idp.entityId });
  const keyInfo = el("ds:KeyInfo", { "xmlns:ds": NS.ds }, el("ds:X509Data", {}, el("ds:X509Certificate", {}, credential.certificate)));
  const descriptor = el("md:IDPSSODescriptor", { WantAuthnRequestsSigned: "true", protocolSupportEnumeration: NS.samlp }, [
    el("md:KeyDescriptor", { use: "signing" }, keyInfo),
    el("md:SingleLogoutService", { Binding: BINDING.redirect, Location: idp.sloUrl }),
    el("md:SingleLogoutService", { Binding: BINDING.post, Location: idp.sloUrl }),
    el("md:NameIDFormat", {}, TRANSIENT),
    el("md:SingleSignOnService", { Binding: BINDING.redirect, Location: idp.ssoUrl }),
    el("md:SingleSignOnService", { Binding: BINDING.post, Location: idp.ssoUrl }),
    ...Object.keys(SPID_ATTRIBUTES).map((name) => // Each declares saml: itself, as exclusive canonicalisation would render it.
      el("saml:Attribute", { "xmlns:saml": NS.saml, Name: name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic" })),
  ]);
  const lang = { "xml:lang": idp.organization.locale };
  const organization = el("md:Organization", {}, [
    el("md:OrganizationName", lang, text(idp.organization.name)),
    el("md:OrganizationDisplayName", lang, text(idp.organization.name)),
    el("md:OrganizationURL", lang, text(idp.organization.url)),
  ]);
  return signElement({ id, head, tail: descriptor + organization + "</md:EntityDescriptor>" }, credential);
}
