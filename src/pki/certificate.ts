import { createPublicKey, randomBytes } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { TesseraError } from "../shared/errors.ts";
import { bytes, owned } from "./algorithms.ts";
import { type Signer, signed } from "./signer.ts";

/** What a certificate states, before an authority signs it. */
export interface CertificateTemplate {
  serial: Buffer;
  issuer: pkijs.RelativeDistinguishedNames;
  subject: pkijs.RelativeDistinguishedNames;
  notBefore: number;
  notAfter: number;
  /** SubjectPublicKeyInfo, DER. */
  publicKey: Uint8Array;
  extensions: pkijs.Extension[];
}

/**
 * A serial number: 16 random bytes, positive and without a leading zero byte, so that its hex is
 * the same however it is written (RFC 5280 §4.1.2.2: unique, at most 20 octets; CA/B Forum: 64
 * bits of entropy at least).
 */
export function newSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial;
}

/** A serial number as stored and compared: lower-case hex of the INTEGER's value, no leading zeros. */
export function serialHex(integer: asn1js.Integer | Uint8Array): string {
  const value = integer instanceof asn1js.Integer ? bytes(integer.valueBlock.valueHexView) : Buffer.from(integer);
  return value.toString("hex").replace(/^(00)+(?=.)/, "");
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds. */
export function x509Time(ms: number): pkijs.Time {
  const date = new Date(Math.floor(ms / 1000) * 1000);
  return new pkijs.Time({ type: date.getUTCFullYear() >= 2050 ? 1 : 0, value: date });
}

/** Signs the template: a v3 certificate, DER. */
export async function signCertificate(template: CertificateTemplate, signer: Signer): Promise<Buffer> {
  const certificate = new pkijs.Certificate({
    version: 2,
    serialNumber: new asn1js.Integer({ valueHex: template.serial }),
    issuer: template.issuer,
    subject: template.subject,
    notBefore: x509Time(template.notBefore),
    notAfter: x509Time(template.notAfter),
    subjectPublicKeyInfo: pkijs.PublicKeyInfo.fromBER(owned(template.publicKey)),
    extensions: template.extensions,
  });
  certificate.signature = signer.algorithm();
  return signed(certificate.encodeTBS(), signer);
}

export function parseCertificate(der: Uint8Array): pkijs.Certificate {
  return pkijs.Certificate.fromBER(owned(der));
}

export function pem(label: "CERTIFICATE" | "X509 CRL", der: Uint8Array): string {
  const body = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/**
 * A subject's public key, checked to be one qualified certificates may carry today (ETSI TS 119
 * 312): RSA of 2048 bits or more, or EC on P-256 or P-384, as OpenSSL parses it (an EC point off
 * its curve is refused there).
 */
export function acceptablePublicKey(spki: Uint8Array): Buffer {
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  } catch (cause) {
    throw new TesseraError("pki.invalid_public_key", "the public key is not a SubjectPublicKeyInfo", { cause });
  }
  const details = key.asymmetricKeyDetails ?? {};
  const ok =
    (key.asymmetricKeyType === "rsa" && (details.modulusLength ?? 0) >= 2048 && (details.modulusLength ?? 0) <= 8192) ||
    (key.asymmetricKeyType === "ec" && ["prime256v1", "secp384r1"].includes(details.namedCurve ?? ""));
  if (!ok) {
    throw new TesseraError("pki.weak_public_key", `a ${key.asymmetricKeyType} key (${details.modulusLength ?? details.namedCurve ?? "?"}) is not accepted: RSA of 2048 bits or more, or EC P-256/P-384`);
  }
  return Buffer.from(spki);
}
