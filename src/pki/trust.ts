import type * as asn1js from "asn1js";
import type * as pkijs from "pkijs";
import type { TrustList } from "../tenants/policy.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { loadHierarchy } from "./authorities.ts";
import { serialHex } from "./certificate.ts";
import type { PkiDeps } from "./deps.ts";
import { OID } from "./extensions.ts";
import { rdnText } from "./names.ts";
import { parseCertificates, revocationStatus, validateChain } from "./validation.ts";

/**
 * The certificates a policy's trust list names, with the tenant's own CAs where it asks: its root
 * and its issuing CA, since a browser presents a card's certificate alone.
 */
export async function trustAnchorsOf(deps: PkiDeps, tenant: Tenant, trust: TrustList): Promise<pkijs.Certificate[]> {
  const anchors = parseCertificates(trust.pem);
  if (trust.tenantPki) {
    const hierarchy = await loadHierarchy(deps, tenant);
    if (hierarchy) anchors.push(hierarchy.root.certificate, hierarchy.issuing.certificate);
  }
  return anchors;
}

/**
 * A certificate a TLS client may authenticate with (RFC 5280 §4.2.1.3, §4.2.1.12): its key may make
 * digital signatures, and its extended key usage, if any, includes TLS client authentication. A
 * qualified signing certificate (non-repudiation only) is not a card's authentication certificate.
 */
export function forClientAuthentication(certificate: pkijs.Certificate): boolean {
  const extensions = certificate.extensions ?? [];
  const keyUsage = extensions.find((e) => e.extnID === OID.keyUsage)?.parsedValue as asn1js.BitString | undefined;
  if (keyUsage && !((keyUsage.valueBlock.valueHexView[0] ?? 0) & 0x80)) return false;
  const eku = extensions.find((e) => e.extnID === OID.extKeyUsage)?.parsedValue as pkijs.ExtKeyUsage | undefined;
  return !eku || eku.keyPurposes.includes(OID.clientAuth);
}

/** What was checked of a certificate that passed, for the evidence a decision rests on. */
export interface CheckedCertificate {
  subject: string;
  issuer: string;
  serial: string;
  revocation: "ocsp" | "crl";
}

export type CertificateProblem = "untrusted" | "expired" | "revoked" | "status_unknown";

export type CertificateVerdict = { ok: true; checked: CheckedCertificate } | { ok: false; problem: CertificateProblem; detail: string };

/**
 * Someone's certificate (a qualified signature's, a card's) checked now against a trust list: its
 * chain, its validity, and its status from its own CA (OCSP, else the CRL), which must answer.
 */
export async function checkTrustedCertificate(deps: PkiDeps, tenant: Tenant, trust: TrustList, leaf: pkijs.Certificate, intermediates: pkijs.Certificate[]): Promise<CertificateVerdict> {
  const now = deps.clock.now();
  const chain = await validateChain(leaf, intermediates, await trustAnchorsOf(deps, tenant, trust), now);
  if (!chain.ok) return { ok: false, problem: chain.problem === "expired" ? "expired" : "untrusted", detail: chain.detail };
  const revocation = await revocationStatus(leaf, chain.issuer, now);
  if (revocation.status === "revoked") return { ok: false, problem: "revoked", detail: `revoked on ${new Date(revocation.at).toISOString()}` };
  if (revocation.status === "unknown") return { ok: false, problem: "status_unknown", detail: revocation.detail };
  return { ok: true, checked: { subject: rdnText(leaf.subject), issuer: rdnText(leaf.issuer), serial: serialHex(leaf.serialNumber), revocation: revocation.source } };
}
