import { X509Certificate } from "node:crypto";
import type { Element } from "@xmldom/xmldom";
import { z } from "zod";
import { isSpidAttribute } from "./attributes.ts";
import { attribute, childNamed, childrenNamed, elements, isElement, MAX_METADATA_BYTES, NS, parseXml, textOf, XmlRejected } from "./xml.ts";

/**
 * A service provider as read from its metadata (SAML metadata §2.4.4, SPID Regole tecniche §1.3):
 * signed requests (AuthnRequestsSigned="true"), its signing certificates, its assertion consumer
 * services by index (the default one marked), the attribute sets it may ask for by
 * AttributeConsumingServiceIndex, and where its single logout goes.
 */
export const BINDING = {
  redirect: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
  post: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
} as const;

const Endpoint = z.object({ binding: z.string(), location: z.string(), responseLocation: z.string().optional() });
const IndexedEndpoint = Endpoint.extend({ index: z.number().int(), isDefault: z.boolean() });

export const ServiceProviderDescription = z.object({
  entityId: z.string(),
  name: z.string(),
  /** PEM certificates the SP signs with. */
  certificates: z.array(z.string()).min(1),
  assertionConsumerServices: z.array(IndexedEndpoint).min(1),
  attributeConsumingServices: z.array(z.object({ index: z.number().int(), name: z.string(), attributes: z.array(z.string()) })),
  singleLogoutServices: z.array(Endpoint),
});
export type ServiceProviderDescription = z.infer<typeof ServiceProviderDescription>;
export type AssertionConsumerService = z.infer<typeof IndexedEndpoint>;

export class MetadataRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetadataRejected";
  }
}

const UNSIGNED_SHORT = /^(0|[1-9]\d{0,4})$/;
const MIN_RSA_BITS = 2048;

/** http only to this machine (development, tests); https anywhere. */
function validEndpointUrl(value: string | undefined): boolean {
  if (!value) return false;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || (url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname));
  } catch {
    return false;
  }
}

function certificateOf(keyDescriptor: Element): string[] {
  const keyInfo = childNamed(keyDescriptor, NS.ds, "KeyInfo");
  const data = keyInfo ? childrenNamed(keyInfo, NS.ds, "X509Data") : [];
  return data.flatMap((d) => childrenNamed(d, NS.ds, "X509Certificate")).map((c) => {
    const base64 = (c.textContent ?? "").replace(/\s+/g, "");
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(base64, "base64"));
    } catch {
      throw new MetadataRejected("a KeyDescriptor's X509Certificate is not a certificate");
    }
    const key = cert.publicKey;
    if (key.asymmetricKeyType === "rsa" && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
      throw new MetadataRejected(`the signing certificate's RSA key has fewer than ${MIN_RSA_BITS} bits`);
    }
    if (key.asymmetricKeyType !== "rsa" && key.asymmetricKeyType !== "ec") throw new MetadataRejected("the signing certificate's key is neither RSA nor EC");
    return cert.toString();
  });
}

function endpoint(e: Element) {
  const binding = attribute(e, "Binding");
  const location = attribute(e, "Location");
  if (!binding || !validEndpointUrl(location)) throw new MetadataRejected(`${e.localName} needs a Binding and an https Location`);
  const responseLocation = attribute(e, "ResponseLocation");
  if (responseLocation !== undefined && !validEndpointUrl(responseLocation)) throw new MetadataRejected(`${e.localName}'s ResponseLocation is not an https URL`);
  return { binding, location: location!, ...(responseLocation ? { responseLocation } : {}) };
}

function indexOf(e: Element): number {
  const index = attribute(e, "index");
  if (index === undefined || !UNSIGNED_SHORT.test(index) || Number(index) > 65535) throw new MetadataRejected(`${e.localName} needs an index (0–65535)`);
  return Number(index);
}

/** Reads and checks a service provider's metadata; the error names what is wrong. */
export function parseServiceProviderMetadata(xml: string): ServiceProviderDescription {
  let root: Element;
  try {
    root = parseXml(xml, MAX_METADATA_BYTES).documentElement!;
  } catch (error) {
    if (error instanceof XmlRejected) throw new MetadataRejected(`the metadata is not acceptable XML: ${error.message}`);
    throw error;
  }
  if (!isElement(root, NS.md, "EntityDescriptor")) throw new MetadataRejected("the root element is not md:EntityDescriptor");
  const entityId = attribute(root, "entityID");
  if (!entityId || entityId.length > 1024 || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(entityId)) throw new MetadataRejected("entityID is missing or not a URI");
  const sso = childrenNamed(root, NS.md, "SPSSODescriptor");
  if (sso.length !== 1) throw new MetadataRejected("there must be exactly one SPSSODescriptor");
  const sp = sso[0]!;
  if (!(attribute(sp, "protocolSupportEnumeration") ?? "").split(/\s+/).includes(NS.samlp)) throw new MetadataRejected("SPSSODescriptor does not support the SAML 2.0 protocol");
  if (attribute(sp, "AuthnRequestsSigned") !== "true") throw new MetadataRejected('SPID requires AuthnRequestsSigned="true"');

  const certificates = childrenNamed(sp, NS.md, "KeyDescriptor")
    .filter((k) => (attribute(k, "use") ?? "signing") === "signing")
    .flatMap(certificateOf);
  if (certificates.length === 0) throw new MetadataRejected("there is no signing certificate (KeyDescriptor use=signing)");

  const acs = childrenNamed(sp, NS.md, "AssertionConsumerService").map((e) => ({ ...endpoint(e), index: indexOf(e), isDefault: attribute(e, "isDefault") === "true" }));
  if (!acs.some((a) => a.binding === BINDING.post)) throw new MetadataRejected("there is no AssertionConsumerService with the HTTP-POST binding");
  if (new Set(acs.map((a) => a.index)).size !== acs.length) throw new MetadataRejected("two AssertionConsumerServices share an index");
  if (acs.filter((a) => a.isDefault).length > 1) throw new MetadataRejected("more than one AssertionConsumerService is the default");

  const attributeConsumingServices = childrenNamed(sp, NS.md, "AttributeConsumingService").map((e) => {
    const index = indexOf(e);
    const names = childrenNamed(e, NS.md, "RequestedAttribute").map((r) => attribute(r, "Name") ?? "");
    if (names.length === 0) throw new MetadataRejected(`AttributeConsumingService ${index} requests no attribute`);
    const invalid = names.filter((n) => !isSpidAttribute(n));
    if (invalid.length > 0) throw new MetadataRejected(`AttributeConsumingService ${index} requests attributes that SPID does not define: ${invalid.join(", ")}`);
    return { index, name: textOf(childNamed(e, NS.md, "ServiceName")) ?? "", attributes: [...new Set(names)] };
  });
  if (new Set(attributeConsumingServices.map((a) => a.index)).size !== attributeConsumingServices.length) throw new MetadataRejected("two AttributeConsumingServices share an index");

  const singleLogoutServices = childrenNamed(sp, NS.md, "SingleLogoutService").map(endpoint);
  const organization = childNamed(root, NS.md, "Organization");
  const displayName = organization ? elements(organization).find((e) => e.localName === "OrganizationDisplayName") : undefined;
  return ServiceProviderDescription.parse({
    entityId,
    name: textOf(displayName) || attributeConsumingServices[0]?.name || entityId,
    certificates,
    assertionConsumerServices: acs,
    attributeConsumingServices,
    singleLogoutServices,
  });
}

/** The ACS answers go to when the request names none usable: the default, else the lowest index. */
export function defaultAssertionConsumerService(sp: ServiceProviderDescription): AssertionConsumerService {
  const posts = sp.assertionConsumerServices.filter((a) => a.binding === BINDING.post);
  return posts.find((a) => a.isDefault) ?? [...posts].sort((a, b) => a.index - b.index)[0]!;
}
