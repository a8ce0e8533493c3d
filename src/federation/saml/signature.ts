import { createHash, sign as signData } from "node:crypto";
import { el, NS } from "./xml.ts";
import type { SamlCredential } from "./credential.ts";

/**
 * Enveloped XML signatures (RSA-SHA256, SHA-256 digests, exclusive canonicalisation) over
 * elements that Tessera writes directly in canonical form: the digest is taken over the very
 * string that is sent, with no parse and no canonicalisation pass (what makes xml-crypto's
 * generic path several times slower). The element's apex must declare every namespace it uses;
 * prefixes used only in content (xsi:type="xs:string") are named in the InclusiveNamespaces
 * PrefixList so that verifiers render their declarations on the apex as written.
 */
export const ALG = {
  c14n: "http://www.w3.org/2001/10/xml-exc-c14n#",
  enveloped: "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
  rsaSha256: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  sha256: "http://www.w3.org/2001/04/xmlenc#sha256",
} as const;

/** An element to sign, cut where its Signature goes (after its Issuer, per the SAML schemas). */
export interface SignableElement {
  id: string;
  /** Start tag and every child before the Signature. */
  head: string;
  /** Every child after the Signature, and the end tag. */
  tail: string;
  /** Prefixes the content uses without the markup declaring them visibly (for exc-c14n). */
  inclusivePrefixes?: string;
}

function signedInfo(id: string, digest: string, inclusivePrefixes: string | undefined, declareDs: boolean): string {
  const inclusive = inclusivePrefixes ? el("ec:InclusiveNamespaces", { "xmlns:ec": NS.ec, PrefixList: inclusivePrefixes }) : "";
  return el("ds:SignedInfo", declareDs ? { "xmlns:ds": NS.ds } : {}, [
    el("ds:CanonicalizationMethod", { Algorithm: ALG.c14n }),
    el("ds:SignatureMethod", { Algorithm: ALG.rsaSha256 }),
    el("ds:Reference", { URI: `#${id}` }, [
      el("ds:Transforms", {}, [el("ds:Transform", { Algorithm: ALG.enveloped }), el("ds:Transform", { Algorithm: ALG.c14n }, inclusive)]),
      el("ds:DigestMethod", { Algorithm: ALG.sha256 }),
      el("ds:DigestValue", {}, digest),
    ]),
  ]);
}

/** RSA-SHA256 over `data`, on libuv's thread pool so that the event loop goes on meanwhile. */
export function rsaSha256(data: string | Buffer, credential: SamlCredential): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    signData("sha256", typeof data === "string" ? Buffer.from(data) : data, credential.privateKey, (error, signature) => (error ? reject(error) : resolve(signature)));
  });
}

/** The element with its enveloped signature in place. */
export async function signElement(element: SignableElement, credential: SamlCredential): Promise<string> {
  const digest = createHash("sha256").update(element.head).update(element.tail).digest("base64");
  const value = await rsaSha256(signedInfo(element.id, digest, element.inclusivePrefixes, true), credential);
  const signature = el("ds:Signature", { "xmlns:ds": NS.ds }, [
    signedInfo(element.id, digest, element.inclusivePrefixes, false),
    el("ds:SignatureValue", {}, value.toString("base64")),
    el("ds:KeyInfo", {}, el("ds:X509Data", {}, el("ds:X509Certificate", {}, credential.certificate))),
  ]);
  return element.head + signature + element.tail;
}

/**
 * HTTP-Redirect binding (SAML bindings §3.4.4.1): the signature covers the query string's
 * `SAMLRequest|SAMLResponse`, `RelayState` and `SigAlg`, URL-encoded, in that order.
 */
export async function signRedirectQuery(
  kind: "SAMLRequest" | "SAMLResponse",
  message: string,
  relayState: string | undefined,
  credential: SamlCredential,
): Promise<string> {
  let query = `${kind}=${encodeURIComponent(message)}`;
  if (relayState !== undefined) query += `&RelayState=${encodeURIComponent(relayState)}`;
  query += `&SigAlg=${encodeURIComponent(ALG.rsaSha256)}`;
  const signature = await rsaSha256(query, credential);
  return `${query}&Signature=${encodeURIComponent(signature.toString("base64"))}`;
}
