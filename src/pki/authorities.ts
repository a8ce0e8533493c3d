import type * as pkijs from "pkijs";
import { recordAuditBy } from "../audit/service.ts";
import type { Actor } from "../identity/deps.ts";
import { TesseraError } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import type { AuthorityRow, CertificateRow, PkiKeyRow } from "../store/repos/pki.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { newSerial, parseCertificate, pem, serialHex, signCertificate } from "./certificate.ts";
import { publishCrl } from "./crl.ts";
import type { PkiDeps } from "./deps.ts";
import { keyIdentifier } from "./extensions.ts";
import type { Keystore } from "./keystore.ts";
import { distinguishedName, nameText, rdnText, type SubjectName } from "./names.ts";
import { type AuthorityRole, authorityExtensions } from "./profiles.ts";
import { type Signer, signerOf } from "./signer.ts";
import { pkiUrls } from "./urls.ts";

/** One authority of a tenant's PKI, ready to sign. */
export interface Authority {
  id: string;
  role: AuthorityRole;
  key: PkiKeyRow;
  /** Its certificate, DER. */
  der: Buffer;
  certificate: pkijs.Certificate;
  /** Its subjectKeyIdentifier (SHA-1 of its public key). */
  keyId: Buffer;
  serial: string;
  notBefore: number;
  notAfter: number;
  signer: Signer;
}

/** A tenant's PKI: the root, the issuing CA it certifies, and the OCSP responder and TSA under that. */
export interface Hierarchy {
  root: Authority;
  issuing: Authority;
  ocsp: Authority;
  tsa: Authority;
}

/** How long a node trusts the authorities it read: a renewed OCSP or TSA certificate reaches every node within this. */
export const HIERARCHY_REFRESH_MS = 30_000;

const YEAR = 365 * 24 * 3_600_000;
const DAY = 24 * 3_600_000;
/** Validity starts a little in the past: relying parties' clocks differ from ours. */
const BACKDATE_MS = 5 * 60_000;

export const keystoreOf = (deps: PkiDeps, tenant: Tenant): Keystore => deps.pki.keystores.configured(tenant.policy.pki.keystore);

function authorityOf(deps: PkiDeps, tenant: Tenant, row: AuthorityRow, key: PkiKeyRow): Authority {
  const der = Buffer.from(row.certificate, "base64");
  const certificate = parseCertificate(der);
  return {
    id: row.id,
    role: row.role as AuthorityRole,
    key,
    der,
    certificate,
    keyId: keyIdentifier(Buffer.from(key.public_key, "base64")),
    serial: serialHex(certificate.serialNumber),
    notBefore: certificate.notBefore.value.getTime(),
    notAfter: certificate.notAfter.value.getTime(),
    signer: signerOf(deps.pki.keystores.holding(key, tenant.policy.pki.keystore), key),
  };
}

/** The tenant's PKI as this node last read it (at most HIERARCHY_REFRESH_MS ago), or undefined before `initPki`. */
export async function loadHierarchy(deps: PkiDeps, tenant: Tenant): Promise<Hierarchy | undefined> {
  const now = deps.clock.now();
  const cached = deps.pki.hierarchies.get(tenant.id);
  if (cached && now - cached.readAt < HIERARCHY_REFRESH_MS) return cached.hierarchy;
  const rows = await deps.repos.pki.activeAuthorities(tenant.id);
  const byRole = new Map<AuthorityRole, Authority>();
  for (const row of rows) {
    const key = await deps.repos.pki.key(tenant.id, row.key_id);
    if (!key) throw new TesseraError("pki.key_missing", `the key of authority ${row.id} is missing`, { status: 500 });
    byRole.set(row.role as AuthorityRole, authorityOf(deps, tenant, row, key));
  }
  const [root, issuing, ocsp, tsa] = (["root", "issuing", "ocsp", "tsa"] as const).map((r) => byRole.get(r));
  if (!root || !issuing || !ocsp || !tsa) return undefined;
  const hierarchy = { root, issuing, ocsp, tsa };
  deps.pki.hierarchies.set(tenant.id, { readAt: now, hierarchy });
  return hierarchy;
}

/** The tenant's PKI, or the error a caller that needs one answers with. */
export async function requireHierarchy(deps: PkiDeps, tenant: Tenant): Promise<Hierarchy> {
  const hierarchy = await loadHierarchy(deps, tenant);
  if (!hierarchy) throw new TesseraError("pki.not_initialised", `tenant ${tenant.id} has no PKI (tessera pki init --tenant ${tenant.id})`, { status: 404 });
  return hierarchy;
}

/** Root first, as `openssl verify -CAfile` and TLS stacks take a chain file: the issuing CA, then the root. */
export function chainPem(hierarchy: Hierarchy): string {
  return pem("CERTIFICATE", hierarchy.issuing.der) + pem("CERTIFICATE", hierarchy.root.der);
}

function organizationOf(tenant: Tenant) {
  return tenant.policy.pki.organization ?? { name: tenant.displayName.slice(0, 64), country: { it: "IT", es: "ES", eu: "ES", en: "EU" }[tenant.defaultLocale] ?? "EU" };
}

function authorityName(tenant: Tenant, role: AuthorityRole): SubjectName {
  const org = organizationOf(tenant);
  const suffix = { root: "Root CA", issuing: "Qualified CA", ocsp: "OCSP Responder", tsa: "Time-Stamping Unit" }[role];
  return {
    country: org.country,
    organizationName: org.name,
    ...(("identifier" in org && org.identifier) ? { organizationIdentifier: org.identifier } : {}),
    commonName: `${org.name} ${suffix}`.slice(0, 64),
  };
}

/**
 * Sets up the tenant's PKI: a root, an issuing CA, a delegated OCSP responder and a TSA, each with
 * a key of the policy's algorithm in the tenant's keystore; their first CRLs. Keys are made before
 * the transaction (an RSA-4096 key takes seconds); under the tenant's lock, the first node to get
 * there stores its hierarchy, and any other destroys the keys it made. `created` says which.
 */
export async function initPki(deps: PkiDeps, tenant: Tenant, tenantUrl: string, by: Actor): Promise<{ hierarchy: Hierarchy; created: boolean }> {
  const existing = await loadHierarchy(deps, tenant);
  if (existing) return { hierarchy: existing, created: false };
  const policy = tenant.policy.pki;
  const keystore = keystoreOf(deps, tenant);
  const roles = ["root", "issuing", "ocsp", "tsa"] as const;
  const keys = await Promise.all(roles.map((role) => keystore.generate(tenant.id, policy.algorithms[role])));
  const keyOf = (role: AuthorityRole) => keys[roles.indexOf(role)]!;
  const urls = pkiUrls(tenantUrl);
  const now = deps.clock.now();
  const notBefore = now - BACKDATE_MS;
  const spki = (role: AuthorityRole) => Buffer.from(keyOf(role).public_key, "base64");

  const made = new Map<AuthorityRole, { row: AuthorityRow; issuerId: string | null; notAfter: number }>();
  const make = async (role: AuthorityRole, issuer: AuthorityRole | null, notAfter: number) => {
    const issuerRow = issuer ? made.get(issuer)! : undefined;
    const issuerKey = keyOf(issuer ?? role);
    const der = await signCertificate(
      {
        serial: newSerial(),
        issuer: distinguishedName(authorityName(tenant, issuer ?? role)),
        subject: distinguishedName(authorityName(tenant, role)),
        notBefore,
        notAfter: Math.min(notAfter, issuerRow?.notAfter ?? notAfter),
        publicKey: spki(role),
        extensions: authorityExtensions(role, {
          subjectKeyId: keyIdentifier(spki(role)),
          ...(issuer ? { issuerKeyId: keyIdentifier(spki(issuer)) } : {}),
          urls,
          policy,
        }),
      },
      signerOf(keystore, issuerKey),
    );
    made.set(role, {
      row: { tenant_id: tenant.id, id: newId(), role, key_id: keyOf(role).id, certificate: der.toString("base64"), created_at: now, retired_at: null },
      issuerId: issuerRow?.row.id ?? null,
      notAfter: Math.min(notAfter, issuerRow?.notAfter ?? notAfter),
    });
  };
  await make("root", null, now + policy.validity.rootYears * YEAR);
  await make("issuing", "root", now + policy.validity.issuingYears * YEAR);
  await make("ocsp", "issuing", now + policy.validity.ocspSignerDays * DAY);
  await make("tsa", "issuing", now + policy.validity.tsaYears * YEAR);

  const stored = await deps.repos.atomically(async (repos) => {
    await repos.lock(`pki:${tenant.id}`);
    if ((await repos.pki.activeAuthorities(tenant.id)).length > 0) return false;
    for (const key of keys) await repos.pki.insertKey(key);
    for (const role of roles) {
      const { row, issuerId } = made.get(role)!;
      await repos.pki.insertAuthority(row);
      if (issuerId) await repos.pki.insertCertificate(authorityCertificateRow(row, issuerId));
    }
    await recordAuditBy(repos, deps.clock, by, {
      tenantId: tenant.id,
      type: "pki.initialised",
      data: Object.fromEntries(roles.map((r) => [r, { algorithm: keyOf(r).algorithm, keystore: keyOf(r).keystore, subject: nameText(authorityName(tenant, r)) }])),
    });
    return true;
  });
  if (!stored) {
    // Another node set the PKI up first: its keys are the ones; ours go.
    for (const key of keys) await keystore.destroy(key);
    return { hierarchy: await requireHierarchy(deps, tenant), created: false };
  }
  deps.pki.hierarchies.delete(tenant.id);
  const hierarchy = await requireHierarchy(deps, tenant);
  await deps.repos.atomically(async (repos) => {
    const inTransaction = { ...deps, repos };
    await publishCrl(inTransaction, tenant, hierarchy.root);
    await publishCrl(inTransaction, tenant, hierarchy.issuing);
  });
  return { hierarchy, created: true };
}

/** An authority's certificate among those its issuer made: CRLs and OCSP answer for it too. */
export function authorityCertificateRow(row: AuthorityRow, issuerId: string): CertificateRow {
  const certificate = parseCertificate(Buffer.from(row.certificate, "base64"));
  return {
    tenant_id: row.tenant_id,
    issuer_id: issuerId,
    serial: serialHex(certificate.serialNumber),
    profile: `authority:${row.role}`,
    subject: rdnText(certificate.subject),
    account_id: null,
    key_id: row.key_id,
    certificate: row.certificate,
    not_before: certificate.notBefore.value.getTime(),
    not_after: certificate.notAfter.value.getTime(),
    created_at: row.created_at,
    revoked_at: null,
    revocation_reason: null,
  };
}
