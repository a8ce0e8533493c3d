import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { bytes, digest, owned } from "./algorithms.ts";

/**
 * The X.509 extensions Tessera's certificates carry (RFC 5280 §4.2, ETSI EN 319 412-2/-5), each as
 * a pkijs Extension whose value asn1js encodes.
 */
const extension = (extnID: string, critical: boolean, value: asn1js.AsnType) =>
  new pkijs.Extension({ extnID, critical, extnValue: value.toBER() });

export const OID = {
  keyUsage: "2.5.29.15",
  basicConstraints: "2.5.29.19",
  extKeyUsage: "2.5.29.37",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
  crlDistributionPoints: "2.5.29.31",
  certificatePolicies: "2.5.29.32",
  anyPolicy: "2.5.29.32.0",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
  qcStatements: "1.3.6.1.5.5.7.1.3",
  ocspNoCheck: "1.3.6.1.5.5.7.48.1.5",
  ocsp: "1.3.6.1.5.5.7.48.1",
  caIssuers: "1.3.6.1.5.5.7.48.2",
  cpsQualifier: "1.3.6.1.5.5.7.2.1",
  cRLNumber: "2.5.29.20",
  cRLReason: "2.5.29.21",
  // Extended key usages (RFC 5280 §4.2.1.12).
  clientAuth: "1.3.6.1.5.5.7.3.2",
  timeStamping: "1.3.6.1.5.5.7.3.8",
  ocspSigning: "1.3.6.1.5.5.7.3.9",
  // ETSI EN 319 412-5 QcStatements, EN 319 412-1 semantics, EN 319 411-2 policies.
  qcCompliance: "0.4.0.1862.1.1",
  qcSSCD: "0.4.0.1862.1.4",
  qcPDS: "0.4.0.1862.1.5",
  qcType: "0.4.0.1862.1.6",
  qcTypeEsign: "0.4.0.1862.1.6.1",
  pkixQcSyntaxV2: "1.3.6.1.5.5.7.11.2",
  semanticsIdNatural: "0.4.0.194121.1.1",
  qcpNaturalQscd: "0.4.0.194112.1.2",
} as const;

/** RFC 5280 §4.2.1.3 bit positions. */
export const KEY_USAGE = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const;
export type KeyUsage = keyof typeof KEY_USAGE;

/** KeyUsage as a DER BIT STRING: trailing zero bits are not written (X.690 §11.2.2). */
export function keyUsage(usages: KeyUsage[]): pkijs.Extension {
  const positions: number[] = usages.map((u) => KEY_USAGE[u]);
  const byte = positions.reduce((b, bit) => b | (0x80 >> bit), 0);
  return extension(OID.keyUsage, true, new asn1js.BitString({ valueHex: new Uint8Array([byte]), unusedBits: 7 - Math.max(...positions) }));
}

export function basicConstraints(ca: boolean, pathLength?: number): pkijs.Extension {
  const value = new pkijs.BasicConstraints(ca ? { cA: true, ...(pathLength !== undefined ? { pathLenConstraint: pathLength } : {}) } : {});
  return extension(OID.basicConstraints, true, value.toSchema());
}

export function extendedKeyUsage(purposes: string[], critical: boolean): pkijs.Extension {
  return extension(OID.extKeyUsage, critical, new pkijs.ExtKeyUsage({ keyPurposes: purposes }).toSchema());
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's value. */
export function keyIdentifier(spki: Uint8Array): Buffer {
  const info = pkijs.PublicKeyInfo.fromBER(owned(spki));
  return digest("SHA-1", bytes(info.subjectPublicKey.valueBlock.valueHexView));
}

export function subjectKeyIdentifier(keyId: Uint8Array): pkijs.Extension {
  return extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: keyId }));
}

export function authorityKeyIdentifier(keyId: Uint8Array): pkijs.Extension {
  return extension(OID.authorityKeyIdentifier, false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: keyId }) }).toSchema());
}

const uri = (url: string) => new pkijs.GeneralName({ type: 6, value: url });

export function crlDistributionPoint(url: string): pkijs.Extension {
  const point = new pkijs.DistributionPoint({ distributionPoint: [uri(url)] });
  return extension(OID.crlDistributionPoints, false, new pkijs.CRLDistributionPoints({ distributionPoints: [point] }).toSchema());
}

export function authorityInfoAccess(where: { ocsp?: string; caIssuers?: string }): pkijs.Extension {
  const descriptions = [
    ...(where.ocsp ? [new pkijs.AccessDescription({ accessMethod: OID.ocsp, accessLocation: uri(where.ocsp) })] : []),
    ...(where.caIssuers ? [new pkijs.AccessDescription({ accessMethod: OID.caIssuers, accessLocation: uri(where.caIssuers) })] : []),
  ];
  return extension(OID.authorityInfoAccess, false, new pkijs.InfoAccess({ accessDescriptions: descriptions }).toSchema());
}

export function certificatePolicies(policies: { oid: string; cpsUrl?: string | undefined }[]): pkijs.Extension {
  const information = policies.map(
    (p) =>
      new pkijs.PolicyInformation({
        policyIdentifier: p.oid,
        ...(p.cpsUrl ? { policyQualifiers: [new pkijs.PolicyQualifierInfo({ policyQualifierId: OID.cpsQualifier, qualifier: new asn1js.IA5String({ value: p.cpsUrl }) })] } : {}),
      }),
  );
  return extension(OID.certificatePolicies, false, new pkijs.CertificatePolicies({ certificatePolicies: information }).toSchema());
}

/** id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): a delegated responder's own status is not asked. */
export function ocspNoCheck(): pkijs.Extension {
  return extension(OID.ocspNoCheck, false, new asn1js.Null());
}

/**
 * QCStatements of an EU qualified certificate for electronic signatures held by a natural person
 * (EN 319 412-5 §4): QcCompliance; QcSSCD (the private key is in a qualified signature creation
 * device); QcType esign; QcPDS (where the PKI disclosure statement is, in English); and the
 * semantics identifier of the serialNumber (EN 319 412-1 §5.1.3, RFC 3739 SemanticsInformation).
 */
export function qcStatements(options: { pdsUrl: string; sscd: boolean }): pkijs.Extension {
  const statement = (id: string, info?: asn1js.AsnType) =>
    new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: id }), ...(info ? [info] : [])] });
  const statements = [
    statement(OID.pkixQcSyntaxV2, new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.semanticsIdNatural })] })),
    statement(OID.qcCompliance),
    ...(options.sscd ? [statement(OID.qcSSCD)] : []),
    statement(OID.qcType, new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.qcTypeEsign })] })),
    statement(
      OID.qcPDS,
      new asn1js.Sequence({
        value: [new asn1js.Sequence({ value: [new asn1js.IA5String({ value: options.pdsUrl }), new asn1js.PrintableString({ value: "en" })] })],
      }),
    ),
  ];
  return extension(OID.qcStatements, false, new asn1js.Sequence({ value: statements }));
}

export function crlNumber(number: number): pkijs.Extension {
  return extension(OID.cRLNumber, false, new asn1js.Integer({ value: number }));
}

export function crlReason(reason: number): pkijs.Extension {
  return extension(OID.cRLReason, false, new asn1js.Enumerated({ value: reason }));
}
