import { createHash } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { z } from "zod";

/** Key pairs a keystore makes. ETSI TS 119 312 lists each as fit for qualified certificates today. */
export const KEY_ALGORITHMS = ["RSA-2048", "RSA-3072", "RSA-4096", "EC-P256", "EC-P384"] as const;
export const KeyAlgorithm = z.enum(KEY_ALGORITHMS);
export type KeyAlgorithm = z.infer<typeof KeyAlgorithm>;

export const HASH_ALGORITHMS = ["SHA-256", "SHA-384", "SHA-512"] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** Hash algorithms by OID (RFC 5754), and SHA-1 for the CertIDs of OCSP requests (RFC 6960 §4.1.1). */
export const HASH_OIDS = {
  "SHA-1": "1.3.14.3.2.26",
  "SHA-256": "2.16.840.1.101.3.4.2.1",
  "SHA-384": "2.16.840.1.101.3.4.2.2",
  "SHA-512": "2.16.840.1.101.3.4.2.3",
} as const;
export type AnyHash = keyof typeof HASH_OIDS;

const DIGEST_LENGTHS: Record<AnyHash, number> = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };

export function hashByOid(oid: string): AnyHash | undefined {
  return (Object.keys(HASH_OIDS) as AnyHash[]).find((name) => HASH_OIDS[name] === oid);
}

export function digest(hash: AnyHash, data: Uint8Array | ArrayBuffer): Buffer {
  return createHash(hash.replace("-", "").toLowerCase()).update(data instanceof ArrayBuffer ? new Uint8Array(data) : data).digest();
}

export function digestLength(hash: AnyHash): number {
  return DIGEST_LENGTHS[hash];
}

/**
 * How a keystore is asked to sign a digest (PKCS#11's mechanisms): RSASSA-PKCS1-v1_5 over the
 * digest's DigestInfo (CKM_RSA_PKCS), RSASSA-PSS (CKM_RSA_PKCS_PSS, MGF1 with the same hash), or
 * ECDSA over the digest itself (CKM_ECDSA).
 */
export type Mechanism =
  | { name: "RSA-PKCS1"; hash: HashAlgorithm }
  | { name: "RSA-PSS"; hash: HashAlgorithm; saltLength: number }
  | { name: "ECDSA"; hash: HashAlgorithm };

export const isRsa = (algorithm: KeyAlgorithm) => algorithm.startsWith("RSA-");

export function rsaBits(algorithm: KeyAlgorithm): number {
  return Number(algorithm.slice("RSA-".length));
}

/** The curve's name as Node and PKCS#11 (by OID) know it. */
export const CURVES = {
  "EC-P256": { node: "P-256", oid: "1.2.840.10045.3.1.7" },
  "EC-P384": { node: "P-384", oid: "1.3.132.0.34" },
} as const;

/** The hash a key signs certificates, CRLs and responses with: as strong as the key (TS 119 312). */
export function defaultHash(algorithm: KeyAlgorithm): HashAlgorithm {
  return algorithm === "EC-P384" || algorithm === "RSA-4096" ? "SHA-384" : "SHA-256";
}

/** The mechanism to sign with `algorithm`'s key and `hash`, as this PKI signs (PKCS#1 v1.5 for RSA). */
export function defaultMechanism(algorithm: KeyAlgorithm, hash: HashAlgorithm = defaultHash(algorithm)): Mechanism {
  return isRsa(algorithm) ? { name: "RSA-PKCS1", hash } : { name: "ECDSA", hash };
}

const SIGNATURE_OIDS: Record<"RSA-PKCS1" | "ECDSA", Record<HashAlgorithm, string>> = {
  "RSA-PKCS1": { "SHA-256": "1.2.840.113549.1.1.11", "SHA-384": "1.2.840.113549.1.1.12", "SHA-512": "1.2.840.113549.1.1.13" },
  ECDSA: { "SHA-256": "1.2.840.10045.4.3.2", "SHA-384": "1.2.840.10045.4.3.3", "SHA-512": "1.2.840.10045.4.3.4" },
};
const RSASSA_PSS = "1.2.840.113549.1.1.10";
const MGF1 = "1.2.840.113549.1.1.8";

/** The AlgorithmIdentifier naming a signature made with `mechanism` (RFC 4055, RFC 5758). */
export function signatureAlgorithm(mechanism: Mechanism): pkijs.AlgorithmIdentifier {
  if (mechanism.name === "RSA-PSS") {
    const hash = new pkijs.AlgorithmIdentifier({ algorithmId: HASH_OIDS[mechanism.hash], algorithmParams: new asn1js.Null() });
    const params = new pkijs.RSASSAPSSParams({
      hashAlgorithm: hash,
      maskGenAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: MGF1, algorithmParams: hash.toSchema() }),
      saltLength: mechanism.saltLength,
    });
    return new pkijs.AlgorithmIdentifier({ algorithmId: RSASSA_PSS, algorithmParams: params.toSchema() });
  }
  const algorithmId = SIGNATURE_OIDS[mechanism.name][mechanism.hash];
  // RSA keeps an explicit NULL (RFC 4055 §5); ECDSA has no parameters at all (RFC 5758 §3.2).
  return mechanism.name === "RSA-PKCS1"
    ? new pkijs.AlgorithmIdentifier({ algorithmId, algorithmParams: new asn1js.Null() })
    : new pkijs.AlgorithmIdentifier({ algorithmId });
}

/** A digest as RSASSA-PKCS1-v1_5 signs it: DigestInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }. */
export function digestInfo(hash: HashAlgorithm, value: Uint8Array): Buffer {
  const info = new asn1js.Sequence({
    value: [
      new pkijs.AlgorithmIdentifier({ algorithmId: HASH_OIDS[hash], algorithmParams: new asn1js.Null() }).toSchema(),
      new asn1js.OctetString({ valueHex: value }),
    ],
  });
  return Buffer.from(info.toBER());
}

/** ECDSA's r‖s (PKCS#11, IEEE P1363) as X.509 and CMS carry it: Ecdsa-Sig-Value ::= SEQUENCE { r, s }. */
export function ecdsaDer(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  const integer = (bytes: Uint8Array) => asn1js.Integer.fromBigInt(BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`));
  return Buffer.from(new asn1js.Sequence({ value: [integer(raw.subarray(0, half)), integer(raw.subarray(half))] }).toBER());
}

/** X.509's Ecdsa-Sig-Value as PKCS#11 returns ECDSA signatures: r‖s, each `size` bytes. */
export function ecdsaRaw(der: Uint8Array, size: number): Buffer {
  const parsed = asn1js.fromBER(owned(der));
  const sequence = parsed.result as asn1js.Sequence;
  if (parsed.offset === -1 || !(sequence instanceof asn1js.Sequence) || sequence.valueBlock.value.length !== 2) throw new TypeError("not an ECDSA signature");
  const half = (value: asn1js.AsnType) => {
    const hex = (value as asn1js.Integer).toBigInt().toString(16).padStart(size * 2, "0");
    if (hex.length > size * 2) throw new TypeError("ECDSA signature value too long for the curve");
    return Buffer.from(hex, "hex");
  };
  return Buffer.concat([half(sequence.valueBlock.value[0]!), half(sequence.valueBlock.value[1]!)]);
}

/**
 * Bytes in an ArrayBuffer of their own, as pkijs's parsers type their input (a Buffer may sit in
 * a shared pool, which the DOM's BufferSource does not admit).
 */
export function owned(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(data);
}

/** An ArrayBuffer or a view as a Buffer over the same memory (no copy). */
export function bytes(value: ArrayBuffer | ArrayBufferView): Buffer {
  return value instanceof ArrayBuffer ? Buffer.from(new Uint8Array(value)) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
