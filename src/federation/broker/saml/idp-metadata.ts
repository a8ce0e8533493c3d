import { X509Certificate } from "node:crypto";
import type { Element } from "@xmldom/xmldom";
import { z } from "zod";
import { MetadataRejected } from "../../saml/service-provider.ts";
import { BINDING } from "../../saml/service-provider.ts";
import { attribute, childNamed, childrenNamed, isElement, MAX_METADATA_BYTES, NS, parseXml, XmlRejected } from "../../saml/xml.ts";

/**
 * An upstream identity provider as read from its metadata (SAML metadata §2.4.3; SPID Regole
 * tecniche §1.3.2): its entityID, where AuthnRequests go (HTTP-Redirect, or HTTP-POST), and the
 * certificates its assertions must be signed with. Only what the broker acts on is kept.
 */
export const IdpDescription = z.object({
  entityId: z.string(),
  /** PEM certificates (KeyDescriptor use=signing, or no use). */
  certificates: z.array(z.string()).min(1),
  ssoRedirect: z.string().optional(),
  ssoPost: z.string().optional(),
  wantsSignedRequests: z.boolean(),
});
export type IdpDescription = z.infer<typeof IdpDescription>;

function certificates(descriptor: Element): string[] {
  return childrenNamed(descriptor, NS.md, "KeyDescriptor")
    .filter((k) => (attribute(k, "use") ?? "signing") === "signing")
    .flatMap((k) => {
      const keyInfo = childNamed(k, NS.ds, "KeyInfo");
      return (keyInfo ? childrenNamed(keyInfo, NS.ds, "X509Data") : []).flatMap((d) => childrenNamed(d, NS.ds, "X509Certificate"));
    })
    .map((c) => {
      try {
        return new X509Certificate(Buffer.from((c.textContent ?? "").replace(/\s+/g, ""), "base64")).toString();
      } catch {
        throw new MetadataRejected("a KeyDescriptor's X509Certificate is not a certificate");
      }
    });
}

/** Reads an identity provider's metadata; the error names what is wrong. */
export function parseIdpMetadata(xml: string): IdpDescription {
  let root: Element;
  try {
    root = parseXml(xml, MAX_METADATA_BYTES).documentElement!;
  } catch (error) {
    if (error instanceof XmlRejected) throw new MetadataRejected(`the metadata is not acceptable XML: ${error.message}`);
    throw error;
  }
  if (!isElement(root, NS.md, "EntityDescriptor")) throw new MetadataRejected("the root element is not md:EntityDescriptor");
  const entityId = attribute(root, "entityID");
  if (!entityId || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(entityId)) throw new MetadataRejected("entityID is missing or not a URI");
  const descriptors = childrenNamed(root, NS.md, "IDPSSODescriptor");
  if (descriptors.length !== 1) throw new MetadataRejected("there must be exactly one IDPSSODescriptor");
  const idp = descriptors[0]!;
  if (!(attribute(idp, "protocolSupportEnumeration") ?? "").split(/\s+/).includes(NS.samlp)) throw new MetadataRejected("IDPSSODescriptor does not support the SAML 2.0 protocol");
  const certs = certificates(idp);
  if (certs.length === 0) throw new MetadataRejected("there is no signing certificate (KeyDescriptor use=signing)");
  const sso = childrenNamed(idp, NS.md, "SingleSignOnService");
  const location = (binding: string) => sso.find((s) => attribute(s, "Binding") === binding)?.getAttribute("Location") ?? undefined;
  const description = {
    entityId,
    certificates: certs,
    ssoRedirect: location(BINDING.redirect),
    ssoPost: location(BINDING.post),
    wantsSignedRequests: attribute(idp, "WantAuthnRequestsSigned") === "true",
  };
  if (!description.ssoRedirect && !description.ssoPost) throw new MetadataRejected("there is no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding");
  for (const url of [description.ssoRedirect, description.ssoPost]) {
    if (url && !/^https:\/\/|^http:\/\/(localhost|127\.0\.0\.1|\[::1\])[:/]/.test(url)) throw new MetadataRejected(`SingleSignOnService ${url} is not an https URL`);
  }
  return IdpDescription.parse(description);
}
