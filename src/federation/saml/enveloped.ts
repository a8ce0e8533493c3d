import type { Element } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";
import { ALG } from "./signature.ts";
import { attribute, childNamed, childrenNamed, elementsWithId, NS } from "./xml.ts";

/**
 * Verifying an enveloped XML signature (XML-DSig §6.6.4) the way SAML needs it, whichever side
 * receives: one Signature, child of the signed element, with one Reference to that element's ID,
 * which no other element of the document may carry (signature wrapping); accepted algorithms only;
 * and the signed element is then re-read from the bytes the signature covers, never from the
 * document as received. Failures name why, for the caller's own error (SPID ErrorCode, or the
 * broker's refusal).
 */
export type SignatureProblem = "unsigned" | "several" | "wrapping" | "algorithm" | "invalid";

export class SignatureRejected extends Error {
  constructor(
    readonly problem: SignatureProblem,
    message: string,
  ) {
    super(message);
    this.name = "SignatureRejected";
  }
}

export const SIGNATURE_ALGORITHMS: Record<string, string> = {
  [ALG.rsaSha256]: "sha256",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": "sha384",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": "sha512",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": "sha256",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": "sha384",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": "sha512",
};
const DIGEST_ALGORITHMS = new Set([ALG.sha256, "http://www.w3.org/2001/04/xmldsig-more#sha384", "http://www.w3.org/2001/04/xmlenc#sha512"]);
const TRANSFORMS = new Set<string>([ALG.enveloped, ALG.c14n]);

/** Whether `element` carries an enveloped Signature at all. */
export function isSigned(element: Element): boolean {
  return childrenNamed(element, NS.ds, "Signature").length > 0;
}

/** The signed element's bytes as the signature covers them, or SignatureRejected. */
export function verifyEnveloped(element: Element, xml: string, certificates: readonly string[]): string {
  const signatures = childrenNamed(element, NS.ds, "Signature");
  if (signatures.length === 0) throw new SignatureRejected("unsigned", `${element.localName} is not signed`);
  if (signatures.length > 1) throw new SignatureRejected("several", `${element.localName} has more than one Signature`);
  const signature = signatures[0]!;
  const id = attribute(element, "ID");
  if (!id) throw new SignatureRejected("wrapping", `the signed ${element.localName} has no ID`);
  if (elementsWithId(element.ownerDocument!, id).length !== 1) throw new SignatureRejected("wrapping", `another element carries the signed ${element.localName}'s ID`);
  const signedInfo = childNamed(signature, NS.ds, "SignedInfo");
  const method = signedInfo && attribute(childNamed(signedInfo, NS.ds, "SignatureMethod") ?? signedInfo, "Algorithm");
  const references = signedInfo ? childrenNamed(signedInfo, NS.ds, "Reference") : [];
  if (!method || !SIGNATURE_ALGORITHMS[method]) throw new SignatureRejected("algorithm", `SignatureMethod ${method ?? "(none)"} is not accepted`);
  if (references.length !== 1) throw new SignatureRejected("wrapping", "the signature must have exactly one Reference");
  const reference = references[0]!;
  if (attribute(reference, "URI") !== `#${id}`) throw new SignatureRejected("wrapping", `the signature does not reference the ${element.localName}`);
  const digest = attribute(childNamed(reference, NS.ds, "DigestMethod") ?? reference, "Algorithm");
  if (!digest || !DIGEST_ALGORITHMS.has(digest)) throw new SignatureRejected("algorithm", `DigestMethod ${digest ?? "(none)"} is not accepted`);
  const transforms = childNamed(reference, NS.ds, "Transforms");
  for (const t of transforms ? childrenNamed(transforms, NS.ds, "Transform") : []) {
    if (!TRANSFORMS.has(attribute(t, "Algorithm") ?? "")) throw new SignatureRejected("algorithm", `Transform ${attribute(t, "Algorithm")} is not accepted`);
  }
  for (const pem of certificates) {
    const verifier = new SignedXml({ publicCert: pem, getCertFromKeyInfo: () => null });
    let signed: string[];
    try {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- needed where the DOM lib is loaded (test/browser's project): there xml-crypto's Node is the DOM's, which xmldom's Element is not
      verifier.loadSignature(signature as unknown as Parameters<SignedXml["loadSignature"]>[0]);
      if (!verifier.checkSignature(xml)) continue;
      signed = verifier.getSignedReferences();
    } catch {
      continue;
    }
    if (signed.length === 1) return signed[0]!;
  }
  throw new SignatureRejected("invalid", `the ${element.localName}'s signature does not verify with the expected certificates`);
}
