import { constants, createPublicKey, verify } from "node:crypto";
import * as pkijs from "pkijs";
import { TesseraError } from "../shared/errors.ts";
import { bytes, hashByOid, owned } from "./algorithms.ts";

/** Signature algorithms a request may be signed with: RSASSA-PKCS1-v1_5 and ECDSA by hash (RFC 4055, RFC 5758). */
const SIGNATURES: Record<string, { hash: string; ecdsa: boolean }> = {
  "1.2.840.113549.1.1.11": { hash: "sha256", ecdsa: false },
  "1.2.840.113549.1.1.12": { hash: "sha384", ecdsa: false },
  "1.2.840.113549.1.1.13": { hash: "sha512", ecdsa: false },
  "1.2.840.10045.4.3.2": { hash: "sha256", ecdsa: true },
  "1.2.840.10045.4.3.3": { hash: "sha384", ecdsa: true },
  "1.2.840.10045.4.3.4": { hash: "sha512", ecdsa: true },
};
const RSASSA_PSS = "1.2.840.113549.1.1.10";

const invalid = (message: string) => new TesseraError("pki.invalid_csr", message);

/**
 * The public key of a PKCS#10 certification request, once its signature verifies with that key:
 * proof that the requester holds the private key (RFC 2986 §3). Nothing else of the request is
 * used: the registration authority states the subject. Verified by OpenSSL (Node) over the
 * request's signed bytes as received.
 */
export async function csrPublicKey(request: Uint8Array | string): Promise<Uint8Array> {
  // Bytes are DER or PEM; text is PEM or the Base64 of the DER (as JSON carries it).
  const text = typeof request === "string" ? request : Buffer.from(request).toString("latin1");
  const der = text.includes("-----BEGIN") || typeof request === "string" ? Buffer.from(text.replace(/-----[^-]+-----|\s/g, ""), "base64") : Buffer.from(request);
  let csr: pkijs.CertificationRequest;
  try {
    csr = pkijs.CertificationRequest.fromBER(owned(der));
  } catch {
    throw invalid("not a PKCS#10 certificate request");
  }
  const spki = new Uint8Array(csr.subjectPublicKeyInfo.toSchema().toBER());
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  } catch {
    throw invalid("the request's public key cannot be read");
  }
  const signature = bytes(csr.signatureValue.valueBlock.valueHexView);
  const algorithm = csr.signatureAlgorithm;
  let ok: boolean;
  if (algorithm.algorithmId === RSASSA_PSS) {
    const params = new pkijs.RSASSAPSSParams({ schema: algorithm.algorithmParams });
    const hash = hashByOid(params.hashAlgorithm.algorithmId);
    if (!hash) throw invalid("unsupported hash in the request's RSASSA-PSS signature");
    ok = verify(hash.replace("-", "").toLowerCase(), csr.tbsView, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength }, signature);
  } else {
    const scheme = SIGNATURES[algorithm.algorithmId];
    if (!scheme) throw invalid(`unsupported signature algorithm ${algorithm.algorithmId} in the request`);
    ok = verify(scheme.hash, csr.tbsView, scheme.ecdsa ? { key, dsaEncoding: "der" } : key, signature);
  }
  if (!ok) throw invalid("the request's signature does not verify with its own key");
  return spki;
}
