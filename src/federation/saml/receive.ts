import { type KeyObject, X509Certificate, verify as verifyData } from "node:crypto";
import { inflateRawSync } from "node:zlib";
import type { Element } from "@xmldom/xmldom";
import { spidError } from "./errors.ts";
import type { ServiceProviderDescription } from "./service-provider.ts";
import { SIGNATURE_ALGORITHMS, SignatureRejected, verifyEnveloped } from "./enveloped.ts";
import { attribute, childrenNamed, isElement, MAX_MESSAGE_BYTES, NS, parseXml, textOf, XmlRejected } from "./xml.ts";

/**
 * Receiving a signed protocol message from a service provider (SAML bindings §3.4 HTTP-Redirect,
 * §3.5 HTTP-POST), as SPID requires before anything else is looked at: decode, find the issuer
 * among the registered service providers, verify the signature, and from then on read only what
 * the signature covers. Failures here are never answered to the (unverified) sender.
 *
 * - Redirect: `SigAlg` and `Signature` sign the raw, still URL-encoded query string.
 * - POST: one enveloped signature, child of the message element, referencing that element's ID,
 *   which no other element of the document may carry (signature wrapping); the message is then
 *   re-read from the bytes the signature covers, never from the document as received.
 */
export type Binding = "redirect" | "post";
export type MessageKind = "AuthnRequest" | "LogoutRequest";

export interface ReceivedMessage {
  binding: Binding;
  sp: ServiceProviderDescription;
  /** The signed message element. */
  message: Element;
  relayState: string | undefined;
}

/** What a binding delivered: the raw query string (Redirect) or the form fields (POST). */
export type Delivery = { binding: "redirect"; rawQuery: string } | { binding: "post"; form: Record<string, unknown> };

/** SAML bindings §3.4.3: RelayState MUST NOT exceed 80 bytes. */
const MAX_RELAY_STATE = 80;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(value: string): Buffer {
  const compact = value.replace(/[\r\n\t ]/g, "");
  if (compact.length === 0 || !BASE64.test(compact)) throw spidError(4, "the message is not Base64");
  return Buffer.from(compact, "base64");
}

/** Query parameters with their raw (encoded) values, as the Redirect signature covers them. */
function rawParameters(rawQuery: string): Map<string, { raw: string; value: string }> {
  const found = new Map<string, { raw: string; value: string }>();
  for (const pair of rawQuery.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const raw = eq < 0 ? "" : pair.slice(eq + 1);
    if (!["SAMLRequest", "RelayState", "SigAlg", "Signature"].includes(name)) continue;
    if (found.has(name)) throw spidError(4, `${name} appears twice`);
    let value: string;
    try {
      value = decodeURIComponent(raw.replace(/\+/g, " "));
    } catch {
      throw spidError(4, `${name} is not URL-encoded`);
    }
    found.set(name, { raw, value });
  }
  return found;
}

function relayStateOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || Buffer.byteLength(value) > MAX_RELAY_STATE) throw spidError(4, `RelayState must be at most ${MAX_RELAY_STATE} bytes`);
  return value;
}

function parseMessage(xml: string, kind: MessageKind): Element {
  let root: Element;
  try {
    root = parseXml(xml).documentElement!;
  } catch (error) {
    if (error instanceof XmlRejected) throw spidError(4, `the message is not acceptable XML: ${error.message}`);
    throw error;
  }
  if (!isElement(root, NS.samlp, kind)) throw spidError(4, `the message is not a samlp:${kind}`);
  return root;
}

/** The Issuer names a registered SP (Format, if given, is `entity`): else ErrorCode nr10. */
async function issuerOf(message: Element, find: (entityId: string) => Promise<ServiceProviderDescription | undefined>): Promise<ServiceProviderDescription> {
  const issuers = childrenNamed(message, NS.saml, "Issuer");
  const entityId = textOf(issuers[0]);
  if (issuers.length !== 1 || !entityId) throw spidError(10, "there must be one non-empty Issuer");
  const format = attribute(issuers[0]!, "Format");
  if (format !== undefined && format !== "urn:oasis:names:tc:SAML:2.0:nameid-format:entity") throw spidError(10, "Issuer's Format must be entity");
  const sp = await find(entityId);
  if (!sp) throw spidError(10, `${entityId} is not a registered service provider`);
  return sp;
}

/** Public keys by certificate: parsing a certificate costs more than verifying a signature with it. */
const publicKeys = new Map<string, KeyObject>();
function publicKeyOf(pem: string): KeyObject {
  let key = publicKeys.get(pem);
  if (!key) {
    key = new X509Certificate(pem).publicKey;
    // Bounded: certificates come only from registered metadata, but registrations change.
    if (publicKeys.size >= 1000) publicKeys.clear();
    publicKeys.set(pem, key);
  }
  return key;
}

function verifyRedirect(params: Map<string, { raw: string; value: string }>, sp: ServiceProviderDescription): void {
  const sigAlg = params.get("SigAlg");
  const signature = params.get("Signature");
  if (!sigAlg || !signature) throw spidError(7, "the request is not signed (SigAlg and Signature are required)");
  const hash = SIGNATURE_ALGORITHMS[sigAlg.value];
  if (!hash) throw spidError(7, `SigAlg ${sigAlg.value} is not accepted`);
  let signed = `SAMLRequest=${params.get("SAMLRequest")!.raw}`;
  const relay = params.get("RelayState");
  if (relay) signed += `&RelayState=${relay.raw}`;
  signed += `&SigAlg=${sigAlg.raw}`;
  const value = Buffer.from(signature.value, "base64");
  const ok = sp.certificates.some((pem) => {
    try {
      return verifyData(hash, Buffer.from(signed), publicKeyOf(pem), value);
    } catch {
      return false;
    }
  });
  if (!ok) throw spidError(5, "the query string's signature does not verify with the service provider's certificates");
}

/** SPID ErrorCode of each way an enveloped signature fails: nr07 for what is missing or not accepted, nr05 for what does not verify. */
const SIGNATURE_ERRORS: Record<SignatureRejected["problem"], 5 | 7> = { unsigned: 7, algorithm: 7, several: 5, wrapping: 5, invalid: 5 };

function verifyEnvelopedRequest(message: Element, xml: string, kind: MessageKind, sp: ServiceProviderDescription): Element {
  try {
    // Only what the signature covers is read from here on.
    return parseMessage(verifyEnveloped(message, xml, sp.certificates), kind);
  } catch (error) {
    if (error instanceof SignatureRejected) throw spidError(SIGNATURE_ERRORS[error.problem], error.problem === "unsigned" ? "the request is not signed (no enveloped Signature)" : error.message);
    throw error;
  }
}

/** Decodes and verifies a request from a registered service provider, or throws its SpidError. */
export async function receiveSigned(
  delivery: Delivery,
  kind: MessageKind,
  find: (entityId: string) => Promise<ServiceProviderDescription | undefined>,
): Promise<ReceivedMessage> {
  if (delivery.binding === "redirect") {
    const params = rawParameters(delivery.rawQuery);
    const request = params.get("SAMLRequest");
    if (!request) throw spidError(4, "no SAMLRequest");
    const relayState = relayStateOf(params.get("RelayState")?.value);
    let xml: string;
    try {
      xml = inflateRawSync(decodeBase64(request.value), { maxOutputLength: MAX_MESSAGE_BYTES }).toString("utf8");
    } catch (error) {
      if (error instanceof Error && error.name === "SpidError") throw error;
      throw spidError(4, "SAMLRequest is not DEFLATE-compressed, or too large");
    }
    const message = parseMessage(xml, kind);
    const sp = await issuerOf(message, find);
    verifyRedirect(params, sp);
    return { binding: "redirect", sp, message, relayState };
  }
  const { form } = delivery;
  if ("SigAlg" in form || "Signature" in form) throw spidError(6, "HTTP-Redirect parameters (SigAlg, Signature) sent by POST");
  if (typeof form.SAMLRequest !== "string") throw spidError(4, "no SAMLRequest");
  const relayState = relayStateOf(form.RelayState);
  const raw = decodeBase64(form.SAMLRequest);
  if (raw.length > MAX_MESSAGE_BYTES) throw spidError(4, "SAMLRequest is too large");
  const xml = raw.toString("utf8");
  const message = parseMessage(xml, kind);
  const sp = await issuerOf(message, find);
  return { binding: "post", sp, message: verifyEnvelopedRequest(message, xml, kind, sp), relayState };
}
