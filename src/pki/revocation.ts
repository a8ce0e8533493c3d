import { recordAuditBy } from "../audit/service.ts";
import type { Actor } from "../identity/deps.ts";
import { TesseraError } from "../shared/errors.ts";
import type { CertificateRow } from "../store/repos/pki.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { type Authority, requireHierarchy } from "./authorities.ts";
import { publishCrl } from "./crl.ts";
import type { PkiDeps } from "./deps.ts";

/** CRLReason (RFC 5280 §5.3.1) by name. certificateHold is left out: a revocation here is final. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

export function reasonName(code: number | null): RevocationReason | undefined {
  return (Object.keys(REVOCATION_REASONS) as RevocationReason[]).find((name) => REVOCATION_REASONS[name] === code);
}

/**
 * Revokes a certificate of the tenant's issuing CA at once: the status changes, the responses
 * signed ahead for it go, and a new CRL is signed, in one transaction; OCSP reads the status from
 * the store on every request, so every node answers "revoked" from the moment it commits.
 */
export async function revokeCertificate(
  deps: PkiDeps,
  tenant: Tenant,
  target: { serial: string; reason: RevocationReason },
  by: Actor,
): Promise<CertificateRow> {
  const hierarchy = await requireHierarchy(deps, tenant);
  const serial = target.serial.toLowerCase().replace(/^(0x)?(00)*/, "");
  if (!/^[0-9a-f]{1,40}$/.test(serial)) throw new TesseraError("pki.invalid_serial", `not a serial number: ${JSON.stringify(target.serial.slice(0, 50))}`);
  const reason = REVOCATION_REASONS[target.reason];
  if (reason === undefined) throw new TesseraError("pki.invalid_reason", `unknown revocation reason ${JSON.stringify(target.reason)}; one of ${Object.keys(REVOCATION_REASONS).join(", ")}`);
  const issuer: Authority = hierarchy.issuing;
  return deps.repos.atomically(async (repos) => {
    await repos.lock(`pki-crl:${tenant.id}:${issuer.id}`);
    const certificate = await repos.pki.certificate(tenant.id, issuer.id, serial);
    if (!certificate) throw new TesseraError("pki.unknown_certificate", `no certificate ${serial} of tenant ${tenant.id}`, { status: 404 });
    if (certificate.revoked_at !== null) throw new TesseraError("pki.already_revoked", `certificate ${serial} was revoked on ${new Date(certificate.revoked_at).toISOString()}`, { status: 409 });
    const now = deps.clock.now();
    await repos.pki.revoke(tenant.id, issuer.id, serial, Math.floor(now / 1000) * 1000, reason);
    await repos.pki.deleteOcspResponses(tenant.id, issuer.id, serial);
    await publishCrl({ ...deps, repos }, tenant, issuer);
    await recordAuditBy(repos, deps.clock, by, {
      tenantId: tenant.id,
      type: "certificate.revoked",
      subject: certificate.account_id,
      data: { serial, reason: target.reason, certificateSubject: certificate.subject },
    });
    return { ...certificate, revoked_at: Math.floor(now / 1000) * 1000, revocation_reason: reason };
  });
}
