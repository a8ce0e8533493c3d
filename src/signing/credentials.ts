import * as pkijs from "pkijs";
import type { Account } from "../identity/accounts.ts";
import { findOrganization, type Organization } from "../identity/organizations.ts";
import { type KeyAlgorithm, isRsa, owned, rsaBits } from "../pki/algorithms.ts";
import { requireHierarchy } from "../pki/authorities.ts";
import type { PkiDeps } from "../pki/deps.ts";
import { type IssuedCertificate, issuedOf } from "../pki/issuance.ts";
import { rdnText } from "../pki/names.ts";
import { TesseraError } from "../shared/errors.ts";
import type { PkiKeyRow } from "../store/repos/pki.ts";
import type { Tenant } from "../tenants/tenant.ts";

/** A certificate's status as the CSC API names it (credentials/info `cert.status`). */
export type CertificateStatus = "valid" | "expired" | "revoked" | "suspended";

/**
 * A signing credential (CSC API): a professional's key and certificate for one organisation (seed
 * 002), named by its membership's id. It can sign only while its certificate is valid.
 */
export interface Credential {
  id: string;
  accountId: string;
  organization: Organization;
  key: PkiKeyRow;
  certificate: IssuedCertificate;
  status: CertificateStatus;
  /** Its issuing CA then the root, DER. */
  chain: Buffer[];
}

/** certificateHold, the one reason a certificate is suspended rather than revoked (RFC 5280). */
const CERTIFICATE_HOLD = 6;

function statusOf(row: { revoked_at: number | null; revocation_reason: number | null; not_after: number; not_before: number }, now: number): CertificateStatus {
  if (row.revoked_at !== null) return row.revocation_reason === CERTIFICATE_HOLD ? "suspended" : "revoked";
  return now > row.not_after || now < row.not_before ? "expired" : "valid";
}

/** The account's credentials: every membership that has had a certificate, newest first. */
export async function credentialsOf(deps: PkiDeps, tenant: Tenant, account: Account): Promise<Credential[]> {
  const memberships = (await deps.repos.professionals.membershipsOfAccount(tenant.id, account.id)).filter((m) => m.certificate_serial !== null && m.key_id !== null);
  const credentials: Credential[] = [];
  for (const m of memberships.sort((a, b) => b.created_at - a.created_at)) credentials.push(await load(deps, tenant, account.id, m));
  return credentials;
}

/**
 * One of the account's credentials. Another account's, or none, is the same answer: a credential
 * id tells nothing of whose it is.
 */
export async function credentialOf(deps: PkiDeps, tenant: Tenant, account: Account, credentialId: unknown): Promise<Credential> {
  const membership = typeof credentialId === "string" ? await deps.repos.professionals.membership(tenant.id, credentialId) : undefined;
  if (!membership || membership.account_id !== account.id || membership.certificate_serial === null || membership.key_id === null) {
    throw new TesseraError("invalid_request", "Invalid parameter credentialID", { status: 400 });
  }
  return load(deps, tenant, account.id, membership);
}

async function load(deps: PkiDeps, tenant: Tenant, accountId: string, m: { id: string; organization_id: string; certificate_serial: string | null; key_id: string | null }): Promise<Credential> {
  const [row] = await deps.repos.pki.certificatesBySerial(tenant.id, m.certificate_serial!);
  const key = await deps.repos.pki.key(tenant.id, m.key_id!);
  if (!row || !key) throw new TesseraError("invalid_request", "Invalid parameter credentialID", { status: 400 });
  const hierarchy = await requireHierarchy(deps, tenant);
  return {
    id: m.id,
    accountId,
    organization: await findOrganization(deps, tenant, m.organization_id),
    key,
    certificate: issuedOf(row),
    status: statusOf(row, deps.clock.now()),
    chain: [hierarchy.issuing.der, hierarchy.root.der],
  };
}

/** Refuses a credential that cannot sign now: its certificate not valid, or its key gone. */
export function checkCanSign(credential: Credential): void {
  if (credential.key.destroyed_at !== null || credential.status !== "valid") {
    throw new TesseraError("invalid_request", `The credential cannot sign: its certificate is ${credential.status === "valid" ? "without a key" : credential.status}`, { status: 400, params: { status: credential.status } });
  }
}

const SIGNATURE_ALGOS = {
  rsa: ["1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13"],
  ec: ["1.2.840.10045.2.1", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"],
};
const CURVE_OIDS: Record<string, string> = { "EC-P256": "1.2.840.10045.3.1.7", "EC-P384": "1.3.132.0.34" };

/** GeneralizedTime as CSC writes validFrom/validTo: YYYYMMDDHHMMSSZ. */
const generalized = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, "").replace(/\.\d{3}/, "");

/**
 * credentials/info (CSC API v2 §11.5): the key (its algorithms, length, curve), the certificate
 * (status, the certificates asked for, and with `certInfo` its names, serial and validity), and
 * with `authInfo` how a signature is authorised: explicitly, with the signing password (PIN) and
 * a one-time code (OTP) by SMS or e-mail; SCAL2 (each signature authorised for its hashes).
 */
export function credentialInfo(
  tenant: Tenant,
  credential: Credential,
  options: { certificates: "none" | "single" | "chain"; certInfo: boolean; authInfo: boolean; otpTo: string | null; lang: string },
): Record<string, unknown> {
  const algorithm = credential.key.algorithm as KeyAlgorithm;
  const certificate = pkijs.Certificate.fromBER(owned(credential.certificate.der));
  const certificates = options.certificates === "none" ? [] : options.certificates === "chain" ? [credential.certificate.der, ...credential.chain] : [credential.certificate.der];
  const keyUsable = credential.key.destroyed_at === null && credential.status === "valid";
  return {
    description: `${credential.organization.name} (${credential.organization.taxId})`,
    signatureQualifier: "eu_eidas_qes",
    key: {
      status: keyUsable ? "enabled" : "disabled",
      algo: isRsa(algorithm) ? SIGNATURE_ALGOS.rsa : SIGNATURE_ALGOS.ec,
      len: isRsa(algorithm) ? rsaBits(algorithm) : Number(algorithm.slice("EC-P".length)),
      ...(CURVE_OIDS[algorithm] ? { curve: CURVE_OIDS[algorithm] } : {}),
    },
    cert: {
      status: credential.status,
      ...(certificates.length > 0 ? { certificates: certificates.map((der) => der.toString("base64")) } : {}),
      ...(options.certInfo
        ? {
            issuerDN: rdnText(certificate.issuer),
            serialNumber: credential.certificate.serial,
            subjectDN: rdnText(certificate.subject),
            validFrom: generalized(credential.certificate.notBefore),
            validTo: generalized(credential.certificate.notAfter),
          }
        : {}),
    },
    authMode: "explicit",
    ...(options.authInfo
      ? {
          auth: {
            mode: "explicit",
            expression: "PIN AND OTP",
            objects: [
              { type: "Password", id: "PIN", format: "A", label: "PIN", description: "The signing password (the one used to sign in)" },
              { type: "Password", id: "OTP", format: "N", generator: "online", label: "OTP", description: options.otpTo ? `The one-time code sent to ${options.otpTo} (credentials/sendOTP)` : "A one-time code (credentials/sendOTP)" },
            ],
          },
        }
      : {}),
    SCAL: "2",
    multisign: tenant.policy.signing.maxSignatures,
    lang: options.lang,
  };
}
