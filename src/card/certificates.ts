import { createHash } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { owned } from "../pki/algorithms.ts";

/** What a token shows of a certificate and its key: the attributes PKCS#11 applications look for. */
export interface CertifiedKey {
  der: Buffer;
  subject: Buffer;
  issuer: Buffer;
  /** The serial number as DER INTEGER (CKA_SERIAL_NUMBER). */
  serial: Buffer;
  /** SHA-1 of the public key (the usual CKA_ID: it ties the certificate to its key pair). */
  id: Buffer;
  /** The organisation (O) or, lacking one, the common name: what a person picks from a list. */
  label: string;
  /** Of the subject: what `card list` shows. */
  commonName: string;
  notAfter: Date;
  spki: Buffer;
  key: { type: "RSA"; modulus: Buffer; exponent: Buffer; bits: number } | { type: "EC"; params: Buffer; point: Buffer; size: number };
}

const RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const ATTRIBUTE = { commonName: "2.5.4.3", organization: "2.5.4.10" };
/** Field sizes (bytes) of the curves Tessera's keystores make. */
const CURVE_SIZES: Record<string, number> = { "1.2.840.10045.3.1.7": 32, "1.3.132.0.34": 48, "1.3.132.0.35": 66 };

/** Big-endian bytes without leading zeros (PKCS#11 "Big integer"). */
const unsigned = (bytes: Uint8Array) => {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return Buffer.from(bytes.subarray(start));
};

export function certifiedKey(der: Buffer): CertifiedKey {
  const certificate = pkijs.Certificate.fromBER(owned(der));
  const info = certificate.subjectPublicKeyInfo;
  const keyBits = Buffer.from(info.subjectPublicKey.valueBlock.valueHexView);
  const rdn = (name: string) => certificate.subject.typesAndValues.find((t) => t.type === name)?.value.valueBlock.value;
  const algorithm = info.algorithm.algorithmId;
  let key: CertifiedKey["key"];
  if (algorithm === RSA_ENCRYPTION) {
    const rsa = pkijs.RSAPublicKey.fromBER(owned(keyBits));
    const modulus = unsigned(rsa.modulus.valueBlock.valueHexView);
    key = { type: "RSA", modulus, exponent: unsigned(rsa.publicExponent.valueBlock.valueHexView), bits: modulus.length * 8 };
  } else if (algorithm === EC_PUBLIC_KEY) {
    const named = info.algorithm.algorithmParams as asn1js.ObjectIdentifier;
    const curve = named.valueBlock.toString();
    const size = CURVE_SIZES[curve];
    if (!size) throw new TypeError(`unsupported curve ${curve}`);
    key = { type: "EC", params: Buffer.from(named.toBER()), point: Buffer.from(new asn1js.OctetString({ valueHex: owned(keyBits) }).toBER()), size };
  } else {
    throw new TypeError(`unsupported key algorithm ${algorithm}`);
  }
  const commonName = rdn(ATTRIBUTE.commonName) ?? "";
  return {
    der,
    subject: Buffer.from(certificate.subject.toSchema().toBER()),
    issuer: Buffer.from(certificate.issuer.toSchema().toBER()),
    serial: Buffer.from(certificate.serialNumber.toBER()),
    id: createHash("sha1").update(keyBits).digest(),
    label: rdn(ATTRIBUTE.organization) ?? commonName,
    commonName,
    notAfter: certificate.notAfter.value,
    spki: Buffer.from(info.toSchema().toBER()),
    key,
  };
}
