import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { digest, HASH_OIDS, owned } from "./algorithms.ts";
import type { Signer } from "./signer.ts";

export const CMS_OID = {
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  tstInfo: "1.2.840.113549.1.9.16.1.4",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
} as const;

/** A signer's certificate, as CMS names and embeds it. */
export interface SignerCertificate {
  der: Buffer;
  certificate: pkijs.Certificate;
}

const attribute = (type: string, value: asn1js.AsnType) => new pkijs.Attribute({ type, values: [value] });

/**
 * ESS signing-certificate-v2 (RFC 5035 §3): binds the signature to the signer's certificate by its
 * SHA-256 hash (the default hashAlgorithm, so left out) and its issuer and serial number. Required
 * by RFC 5816 for time-stamp tokens and by PAdES/CAdES baseline signatures.
 */
export function signingCertificateV2(signer: SignerCertificate): pkijs.Attribute {
  const issuerSerial = new asn1js.Sequence({
    value: [
      new pkijs.GeneralNames({ names: [new pkijs.GeneralName({ type: 4, value: signer.certificate.issuer })] }).toSchema(),
      signer.certificate.serialNumber,
    ],
  });
  const essCertIdV2 = new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: digest("SHA-256", signer.der) }), issuerSerial] });
  const signingCertificate = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] });
  return attribute(CMS_OID.signingCertificateV2, signingCertificate);
}

/**
 * A CMS SignedData (RFC 5652) with one signer: the signed attributes are content type, message
 * digest and whatever `attributes` adds, written in DER order (a SET OF is sorted, §5.4: verifiers
 * such as OpenSSL re-encode them before checking the signature), and signed as a SET.
 * `content` is encapsulated when given (a time-stamp token's TSTInfo); otherwise the signature is
 * detached and `messageDigest` is the hash of the data signed.
 */
export async function signedData(options: {
  contentType: string;
  content?: Buffer;
  messageDigest: Buffer;
  signer: Signer;
  certificate: SignerCertificate;
  /** The signer's certificate goes into the SignedData unless this is false. */
  embedCertificate?: boolean;
  /** Further certificates to embed (a chain). */
  certificates?: Buffer[];
  attributes?: pkijs.Attribute[];
  unsignedAttributes?: pkijs.Attribute[];
}): Promise<pkijs.ContentInfo> {
  const { signer, certificate } = options;
  const hash = signer.mechanism.hash;
  const hashAlgorithm = new pkijs.AlgorithmIdentifier({ algorithmId: HASH_OIDS[hash] });
  const attributes = [
    attribute(CMS_OID.contentType, new asn1js.ObjectIdentifier({ value: options.contentType })),
    attribute(CMS_OID.messageDigest, new asn1js.OctetString({ valueHex: options.messageDigest })),
    ...(options.attributes ?? []),
  ]
    .map((a) => ({ a, der: Buffer.from(a.toSchema().toBER()) }))
    .sort((x, y) => Buffer.compare(x.der, y.der))
    .map((x) => x.a);
  const signedAttributes = new asn1js.Set({ value: attributes.map((a) => a.toSchema()) }).toBER();
  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: certificate.certificate.issuer, serialNumber: certificate.certificate.serialNumber }),
    digestAlgorithm: hashAlgorithm,
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes }),
    signatureAlgorithm: signer.algorithm(),
    signature: new asn1js.OctetString({ valueHex: await signer.sign(new Uint8Array(signedAttributes)) }),
    ...(options.unsignedAttributes?.length ? { unsignedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 1, attributes: options.unsignedAttributes }) } : {}),
  });
  const embedded = [...(options.embedCertificate === false ? [] : [certificate.der]), ...(options.certificates ?? [])];
  const signed = new pkijs.SignedData({
    // RFC 5652 §5.1: version 3 when the content is not id-data, 1 otherwise (issuerAndSerialNumber sids).
    version: options.contentType === CMS_OID.data ? 1 : 3,
    digestAlgorithms: [hashAlgorithm],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: options.contentType,
      ...(options.content ? { eContent: new asn1js.OctetString({ valueHex: options.content }) } : {}),
    }),
    ...(embedded.length > 0 ? { certificates: embedded.map((der) => pkijs.Certificate.fromBER(owned(der))) } : {}),
    signerInfos: [signerInfo],
  });
  return new pkijs.ContentInfo({ contentType: CMS_OID.signedData, content: signed.toSchema(true) });
}
