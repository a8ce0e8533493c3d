import type * as pkijs from "pkijs";
import type { PkiPolicy } from "../tenants/policy.ts";
import {
  authorityInfoAccess,
  authorityKeyIdentifier,
  basicConstraints,
  certificatePolicies,
  crlDistributionPoint,
  extendedKeyUsage,
  keyUsage,
  OID,
  ocspNoCheck,
  qcStatements,
  subjectKeyIdentifier,
} from "./extensions.ts";
import type { PkiUrls } from "./urls.ts";

/** What end-entity certificates a tenant's issuing CA makes. */
export const END_ENTITY_PROFILES = ["qualified-signing", "tls-client"] as const;
export type EndEntityProfile = (typeof END_ENTITY_PROFILES)[number];

export const AUTHORITY_ROLES = ["root", "issuing", "ocsp", "tsa"] as const;
export type AuthorityRole = (typeof AUTHORITY_ROLES)[number];

export interface ProfileInput {
  subjectKeyId: Buffer;
  /** Absent for the self-signed root. */
  issuerKeyId?: Buffer;
  urls: PkiUrls;
  policy: PkiPolicy;
}

const tenantPolicies = (policy: PkiPolicy) => policy.certificatePolicies.map((p) => ({ oid: p.oid, cpsUrl: p.cpsUrl }));

/**
 * The extensions of each authority (RFC 5280; EN 319 411-1): the root and the issuing CA sign
 * certificates and CRLs (the issuing CA no sub-CAs); the delegated OCSP responder (RFC 6960
 * §4.2.2.2) and the time-stamping unit (RFC 3161 §2.3: the only, critical, extended key usage).
 */
export function authorityExtensions(role: AuthorityRole, input: ProfileInput): pkijs.Extension[] {
  const { urls } = input;
  const ids = [subjectKeyIdentifier(input.subjectKeyId), ...(input.issuerKeyId ? [authorityKeyIdentifier(input.issuerKeyId)] : [])];
  switch (role) {
    case "root":
      return [basicConstraints(true), keyUsage(["keyCertSign", "cRLSign"]), ...ids];
    case "issuing":
      return [
        basicConstraints(true, 0),
        keyUsage(["keyCertSign", "cRLSign"]),
        ...ids,
        certificatePolicies([{ oid: OID.anyPolicy }]),
        crlDistributionPoint(urls.rootCrl),
        authorityInfoAccess({ caIssuers: urls.rootCertificate }),
      ];
    case "ocsp":
      return [keyUsage(["digitalSignature"]), extendedKeyUsage([OID.ocspSigning], false), ocspNoCheck(), ...ids];
    case "tsa":
      return [
        keyUsage(["digitalSignature"]),
        extendedKeyUsage([OID.timeStamping], true),
        ...ids,
        crlDistributionPoint(urls.crl),
        authorityInfoAccess({ ocsp: urls.ocsp, caIssuers: urls.issuingCertificate }),
      ];
  }
}

/**
 * End-entity certificates:
 * - `qualified-signing`: EN 319 412-2 §4.3.2 for a natural person's qualified electronic
 *   signatures: non-repudiation only, QCP-n-qscd (EN 319 411-2) beside the tenant's policies, and
 *   the EU QcStatements (EN 319 412-5).
 * - `tls-client`: an authentication certificate like the Italian CNS: digital signature, TLS client.
 * Both point at this PKI's CRL and OCSP responder, and at the issuing CA's certificate.
 */
export function endEntityExtensions(profile: EndEntityProfile, input: ProfileInput): pkijs.Extension[] {
  return [subjectKeyIdentifier(input.subjectKeyId), ...sharedExtensions(profile, input)];
}

/** What every certificate of a profile from one issuer carries alike: built once, not per certificate. */
const shared = new Map<string, pkijs.Extension[]>();
const SHARED_MAX = 100;

function sharedExtensions(profile: EndEntityProfile, input: ProfileInput): pkijs.Extension[] {
  const { urls, policy } = input;
  const key = JSON.stringify([profile, input.issuerKeyId!.toString("hex"), urls, policy.certificatePolicies, policy.pdsUrl]);
  const known = shared.get(key);
  if (known) return known;
  const common = [authorityKeyIdentifier(input.issuerKeyId!), crlDistributionPoint(urls.crl), authorityInfoAccess({ ocsp: urls.ocsp, caIssuers: urls.issuingCertificate })];
  const made =
    profile === "qualified-signing"
      ? [
          basicConstraints(false),
          keyUsage(["nonRepudiation"]),
          ...common,
          certificatePolicies([{ oid: OID.qcpNaturalQscd }, ...tenantPolicies(policy)]),
          qcStatements({ pdsUrl: policy.pdsUrl ?? urls.pds, sscd: true }),
        ]
      : [
          basicConstraints(false),
          keyUsage(["digitalSignature"]),
          extendedKeyUsage([OID.clientAuth], false),
          ...common,
          ...(policy.certificatePolicies.length > 0 ? [certificatePolicies(tenantPolicies(policy))] : []),
        ];
  if (shared.size >= SHARED_MAX) shared.clear();
  shared.set(key, made);
  return made;
}
