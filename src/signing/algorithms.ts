import * as pkijs from "pkijs";
import { HASH_ALGORITHMS, type HashAlgorithm, hashByOid, isRsa, type KeyAlgorithm, type Mechanism, digestLength, owned } from "../pki/algorithms.ts";
import { TesseraError } from "../shared/errors.ts";

const invalid = (description: string) => new TesseraError("invalid_request", description, { status: 400 });

/** A hash algorithm a CSC request names by OID: SHA-256, SHA-384 or SHA-512. */
export function hashOf(oid: unknown): HashAlgorithm {
  const hash = typeof oid === "string" ? hashByOid(oid) : undefined;
  if (!hash || !HASH_ALGORITHMS.includes(hash as HashAlgorithm)) throw invalid("Invalid parameter hashAlgorithmOID: SHA-256, SHA-384 or SHA-512");
  return hash as HashAlgorithm;
}

const RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
const RSASSA_PSS = "1.2.840.113549.1.1.10";
const EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const WITH_HASH: Record<string, { name: "RSA-PKCS1" | "ECDSA"; hash: HashAlgorithm }> = {
  "1.2.840.113549.1.1.11": { name: "RSA-PKCS1", hash: "SHA-256" },
  "1.2.840.113549.1.1.12": { name: "RSA-PKCS1", hash: "SHA-384" },
  "1.2.840.113549.1.1.13": { name: "RSA-PKCS1", hash: "SHA-512" },
  "1.2.840.10045.4.3.2": { name: "ECDSA", hash: "SHA-256" },
  "1.2.840.10045.4.3.3": { name: "ECDSA", hash: "SHA-384" },
  "1.2.840.10045.4.3.4": { name: "ECDSA", hash: "SHA-512" },
};

/**
 * The mechanism a signHash request asks for (CSC API v2 §11.9): `signAlgo` by OID, with the hash
 * from the OID itself (sha256WithRSAEncryption, ecdsa-with-SHA256…), from `hashAlgorithmOID`
 * (rsaEncryption, ecPublicKey), or for RSASSA-PSS from `signAlgoParams` (DER RSASSA-PSS-params,
 * base64) or `hashAlgorithmOID` with a salt as long as the hash. It must suit the key.
 */
export function mechanismOf(key: KeyAlgorithm, request: { signAlgo?: unknown; hashAlgorithmOID?: unknown; signAlgoParams?: unknown }): Mechanism {
  const oid = request.signAlgo;
  if (typeof oid !== "string") throw invalid("Missing (or invalid type) string parameter signAlgo");
  let mechanism: Mechanism;
  if (WITH_HASH[oid]) {
    mechanism = WITH_HASH[oid];
    if (request.hashAlgorithmOID !== undefined && hashOf(request.hashAlgorithmOID) !== mechanism.hash) throw invalid("Invalid parameter hashAlgorithmOID: not the hash of signAlgo");
  } else if (oid === RSA_ENCRYPTION) {
    mechanism = { name: "RSA-PKCS1", hash: hashOf(request.hashAlgorithmOID) };
  } else if (oid === EC_PUBLIC_KEY) {
    mechanism = { name: "ECDSA", hash: hashOf(request.hashAlgorithmOID) };
  } else if (oid === RSASSA_PSS) {
    mechanism = pssOf(request.signAlgoParams, request.hashAlgorithmOID);
  } else {
    throw invalid("Invalid parameter signAlgo");
  }
  if (isRsa(key) !== (mechanism.name !== "ECDSA")) throw invalid(`Invalid parameter signAlgo: the credential's key is ${key}`);
  return mechanism;
}

function pssOf(params: unknown, hashOid: unknown): Mechanism {
  if (params === undefined) {
    const hash = hashOf(hashOid);
    return { name: "RSA-PSS", hash, saltLength: digestLength(hash) };
  }
  if (typeof params !== "string") throw invalid("Invalid parameter signAlgoParams");
  try {
    const decoded = pkijs.RSASSAPSSParams.fromBER(owned(Buffer.from(params, "base64")));
    const hash = hashOf(decoded.hashAlgorithm.algorithmId);
    const mgfHash = decoded.maskGenAlgorithm.algorithmParams ? new pkijs.AlgorithmIdentifier({ schema: decoded.maskGenAlgorithm.algorithmParams }).algorithmId : undefined;
    if (mgfHash !== undefined && hashOf(mgfHash) !== hash) throw invalid("Invalid parameter signAlgoParams: MGF1 with another hash");
    return { name: "RSA-PSS", hash, saltLength: decoded.saltLength };
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    throw invalid("Invalid parameter signAlgoParams: not DER RSASSA-PSS-params");
  }
}
