import { z } from "zod";
import { recordAuditBy } from "../audit/service.ts";
import type { Actor } from "../identity/deps.ts";
import { TesseraError } from "../shared/errors.ts";
import type { CertificateRow } from "../store/repos/pki.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { requireHierarchy } from "./authorities.ts";
import { acceptablePublicKey, newSerial, pem, serialHex, signCertificate } from "./certificate.ts";
import type { PkiDeps } from "./deps.ts";
import { keyIdentifier } from "./extensions.ts";
import { distinguishedName, nameText, SubjectName } from "./names.ts";
import { END_ENTITY_PROFILES, endEntityExtensions } from "./profiles.ts";
import { pkiUrls } from "./urls.ts";

const DAY = 24 * 3_600_000;
const BACKDATE_MS = 5 * 60_000;

/** A request for an end-entity certificate, as the server's services and `tessera pki issue` make it. */
export const CertificateRequest = z
  .object({
    profile: z.enum(END_ENTITY_PROFILES),
    subject: SubjectName,
    /** SubjectPublicKeyInfo, DER (from a CSR whose signature was checked, or a keystore's key). */
    publicKey: z.custom<Uint8Array>((value) => value instanceof Uint8Array, "must be the DER bytes of a SubjectPublicKeyInfo"),
    /** The account the certificate belongs to, if any. */
    accountId: z.string().min(1).nullish(),
    /** The keystore key (pki_keys) whose public half this is, when the tenant holds the private half. */
    keyId: z.string().min(1).nullish(),
    /** Shorter than the policy's `validity.certificateDays` if given; never past the issuing CA's end. */
    validityDays: z.number().int().min(1).max(1825).optional(),
  })
  .strict();
export type CertificateRequest = z.input<typeof CertificateRequest>;

export interface IssuedCertificate {
  serial: string;
  issuerId: string;
  profile: string;
  subject: string;
  der: Buffer;
  pem: string;
  notBefore: number;
  notAfter: number;
}

/**
 * Issues an end-entity certificate from the tenant's issuing CA: checks the key, builds the
 * profile's extensions (pki/profiles.ts), signs, and stores it with its audit entry in one
 * transaction (the caller's, when its repos are bound to one). `tenantUrl` is where the CRL, OCSP
 * and CA certificate the certificate points to are served.
 */
export async function issueCertificate(deps: PkiDeps, tenant: Tenant, tenantUrl: string, input: CertificateRequest, by: Actor): Promise<IssuedCertificate> {
  const parsed = CertificateRequest.safeParse(input);
  if (!parsed.success) {
    throw new TesseraError("pki.invalid_request", `invalid certificate request: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const request = parsed.data;
  const { issuing } = await requireHierarchy(deps, tenant);
  const publicKey = acceptablePublicKey(request.publicKey);
  const now = deps.clock.now();
  const policy = tenant.policy.pki;
  const notBefore = now - BACKDATE_MS;
  const notAfter = Math.min(now + (request.validityDays ?? policy.validity.certificateDays) * DAY, issuing.notAfter);
  if (notAfter <= now) throw new TesseraError("pki.issuer_expired", "the issuing CA's certificate has expired", { status: 409 });
  const serial = newSerial();
  const der = await signCertificate(
    {
      serial,
      issuer: issuing.certificate.subject,
      subject: distinguishedName(request.subject),
      notBefore,
      notAfter,
      publicKey,
      extensions: endEntityExtensions(request.profile, { subjectKeyId: keyIdentifier(publicKey), issuerKeyId: issuing.keyId, urls: pkiUrls(tenantUrl), policy }),
    },
    issuing.signer,
  );
  const row: CertificateRow = {
    tenant_id: tenant.id,
    issuer_id: issuing.id,
    serial: serialHex(serial),
    profile: request.profile,
    subject: nameText(request.subject),
    account_id: request.accountId ?? null,
    key_id: request.keyId ?? null,
    certificate: der.toString("base64"),
    not_before: Math.floor(notBefore / 1000) * 1000,
    not_after: Math.floor(notAfter / 1000) * 1000,
    created_at: now,
    revoked_at: null,
    revocation_reason: null,
  };
  await deps.repos.atomically(async (repos) => {
    await repos.pki.insertCertificate(row);
    await recordAuditBy(repos, deps.clock, by, {
      tenantId: tenant.id,
      type: "certificate.issued",
      subject: request.accountId ?? null,
      data: { serial: row.serial, profile: row.profile, certificateSubject: row.subject, notAfter: row.not_after },
    });
  });
  return issuedOf(row);
}

export function issuedOf(row: CertificateRow): IssuedCertificate {
  const der = Buffer.from(row.certificate, "base64");
  return { serial: row.serial, issuerId: row.issuer_id, profile: row.profile, subject: row.subject, der, pem: pem("CERTIFICATE", der), notBefore: row.not_before, notAfter: row.not_after };
}
