import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

/**
 * Test electronic identity documents, made the way an issuing state does (ICAO 9303), with
 * libraries other than the verifier's path: a CSCA and a Document Signer by @peculiar/x509, the
 * SOD signed by pkijs's own SignedData.sign with WebCrypto keys.
 */
x509.cryptoProvider.set(globalThis.crypto);
const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

export interface Issuer {
  certificate: x509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
  pem: string;
}

export async function testCsca(name = "CSCA-ITALIA TEST"): Promise<Issuer> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ["sign", "verify"]));
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: `C=IT, O=Ministero dell'Interno, CN=${name}`,
    notBefore: new Date(Date.now() - 86_400_000 * 365),
    notAfter: new Date(Date.now() + 86_400_000 * 365 * 10),
    keys,
    signingAlgorithm: RSA,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return { certificate, keys, pem: certificate.toString("pem") };
}

export async function documentSigner(csca: Issuer): Promise<Issuer> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ["sign", "verify"]));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: "0a",
    subject: "C=IT, O=Istituto Poligrafico e Zecca dello Stato, CN=Document Signer CIE TEST",
    issuer: csca.certificate.subject,
    notBefore: new Date(Date.now() - 86_400_000 * 30),
    notAfter: new Date(Date.now() + 86_400_000 * 365 * 3),
    publicKey: keys.publicKey,
    signingKey: csca.keys.privateKey,
    signingAlgorithm: RSA,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  return { certificate, keys, pem: certificate.toString("pem") };
}

const digit = (field: string) =>
  String([...field].reduce((sum, c, i) => sum + (c === "<" ? 0 : /\d/.test(c) ? Number(c) : c.charCodeAt(0) - 55) * [7, 3, 1][i % 3]!, 0) % 10);
const pad = (s: string, n: number) => (s + "<".repeat(n)).slice(0, n);

export interface Holder {
  code?: string;
  state?: string;
  number: string;
  /** YYMMDD */
  birth: string;
  sex: "M" | "F";
  /** YYMMDD */
  expiry: string;
  surname: string;
  given: string;
}

/** A TD1 MRZ (three lines of 30) with its check digits. */
export function td1(h: Holder): string {
  const l1 = pad(`${pad(h.code ?? "CI", 2)}${h.state ?? "ITA"}${pad(h.number, 9)}${digit(pad(h.number, 9))}`, 30);
  const l2start = `${h.birth}${digit(h.birth)}${h.sex}${h.expiry}${digit(h.expiry)}ITA${"<".repeat(11)}`;
  const composite = digit(l1.slice(5, 30) + l2start.slice(0, 7) + l2start.slice(8, 15) + l2start.slice(18, 29));
  const l3 = pad(`${h.surname.replace(/ /g, "<")}<<${h.given.replace(/ /g, "<")}`, 30);
  return l1 + l2start + composite + l3;
}

const app = (tagNumber: number, value: asn1js.AsnType[] | Uint8Array) =>
  value instanceof Uint8Array
    ? new asn1js.Primitive({ idBlock: { tagClass: 2, tagNumber }, valueHex: value })
    : new asn1js.Constructed({ idBlock: { tagClass: 2, tagNumber }, value });

export const dg1 = (mrz: string) => new Uint8Array(app(1, [app(31, Buffer.from(mrz, "latin1"))]).toBER());

export function dg11(details: { fullName: string; personalNumber: string; birthDate: string; placeOfBirth: string }): Uint8Array {
  const tags = new Uint8Array([0x5f, 0x0e, 0x5f, 0x10, 0x5f, 0x2b, 0x5f, 0x11]);
  return new Uint8Array(
    app(11, [
      new asn1js.Primitive({ idBlock: { tagClass: 2, tagNumber: 28 }, valueHex: tags }),
      app(0x0e, Buffer.from(details.fullName)),
      app(0x10, Buffer.from(details.personalNumber)),
      app(0x2b, Buffer.from(details.birthDate)),
      app(0x11, Buffer.from(details.placeOfBirth)),
    ]).toBER(),
  );
}

/** EF.SOD: the LDS security object with the data groups' SHA-256, signed by `signer` (its certificate `certificate`, which may be another's). */
export async function sod(groups: [number, Uint8Array][], signer: Issuer, certificate: x509.X509Certificate = signer.certificate): Promise<Uint8Array> {
  const sha256 = new pkijs.AlgorithmIdentifier({ algorithmId: "2.16.840.1.101.3.4.2.1" });
  const hashes = await Promise.all(groups.map(async ([n, data]) => [n, new Uint8Array(await webcrypto.subtle.digest("SHA-256", data))] as const));
  const lds = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 0 }),
      sha256.toSchema(),
      new asn1js.Sequence({ value: hashes.map(([n, h]) => new asn1js.Sequence({ value: [new asn1js.Integer({ value: n }), new asn1js.OctetString({ valueHex: h })] })) }),
    ],
  }).toBER();
  const cert = pkijs.Certificate.fromBER(certificate.rawData);
  const messageDigest = new Uint8Array(await webcrypto.subtle.digest("SHA-256", lds));
  const signed = new pkijs.SignedData({
    version: 3,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: "2.23.136.1.1.1", eContent: new asn1js.OctetString({ valueHex: lds }) }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            new pkijs.Attribute({ type: "1.2.840.113549.1.9.3", values: [new asn1js.ObjectIdentifier({ value: "2.23.136.1.1.1" })] }),
            new pkijs.Attribute({ type: "1.2.840.113549.1.9.4", values: [new asn1js.OctetString({ valueHex: messageDigest })] }),
          ],
        }),
      }),
    ],
    certificates: [cert],
  });
  await signed.sign(signer.keys.privateKey, 0, "SHA-256");
  const info = new pkijs.ContentInfo({ contentType: "1.2.840.113549.1.7.2", content: signed.toSchema(true) });
  return new Uint8Array(app(23, [info.toSchema()]).toBER());
}
