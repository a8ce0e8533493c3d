import { recordAuditBy } from "../../audit/service.ts";
import { type Account, findAccount } from "../../identity/accounts.ts";
import type { Actor } from "../../identity/deps.ts";
import { findOrganization, isRepresentative, type Organization, organizationIdentifier } from "../../identity/organizations.ts";
import { enqueueMessage } from "../../messaging/outbox.ts";
import { keystoreOf } from "../../pki/authorities.ts";
import type { PkiDeps, PkiRuntime } from "../../pki/deps.ts";
import type { SoleOwner } from "../../pki/keystore.ts";
import { newProtection, passwordShare } from "../../pki/sole-control.ts";
import { type IssuedCertificate, issueCertificate } from "../../pki/issuance.ts";
import type { SubjectName } from "../../pki/names.ts";
import { type RevocationReason, revokeCertificate } from "../../pki/revocation.ts";
import { TesseraError } from "../../shared/errors.ts";
import type { PkiKeyRow } from "../../store/repos/pki.ts";
import { formatDate } from "../../shared/i18n/dates.ts";
import { translator } from "../../shared/i18n/translate.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { findMembership, type Membership, membershipOf } from "./memberships.ts";

/**
 * The subject of a professional's certificate for one organisation (ETSI EN 319 412-2 §4.2.4, a
 * natural person associated with a legal person): the person by name and DNI (serialNumber
 * `IDCES-<DNI>`, EN 319 412-1 §5.1.3), the organisation by name and VAT identifier
 * (organizationIdentifier `VATES-<CIF>`), and the position held there where the request gave one.
 */
export function professionalSubject(account: Account, organization: Organization, title: string | null): SubjectName {
  const given = account.givenName ?? "";
  const family = account.familyName ?? "";
  return {
    country: organization.country,
    organizationName: organization.name,
    organizationIdentifier: organizationIdentifier(organization),
    ...(title ? { title } : {}),
    surname: family,
    givenName: given,
    serialNumber: `IDCES-${account.identifier}`,
    commonName: `${given} ${family} - ${account.identifier}`.slice(0, 64),
  };
}

/** A key made for an authorised membership, before the transaction that records it. */
export interface PreparedKey {
  membershipId: string;
  key: PkiKeyRow;
}

/** The holder of keys to be made under `password`: a fresh salt at the tenant's argon2id cost, and the share it gives. */
export async function soleOwner(tenant: Tenant, password: string): Promise<SoleOwner> {
  const protection = newProtection(tenant.policy.password.hashing);
  return { protection, share: await passwordShare(password, protection) };
}

/**
 * A new key pair for each of the account's authorised memberships, in the tenant's keystore (of
 * the policy's `keyAlgorithm`), under the holder's sole control: wrapped under `password` (the
 * signing password just chosen or confirmed) as well as the master key. Made outside any
 * transaction (argon2id, an RSA key or a token take time); `recordMembershipKeys` keeps them,
 * `discardKeys` destroys them if that never happens.
 */
export async function prepareMembershipKeys(deps: PkiDeps, tenant: Tenant, accountId: string, password: string): Promise<{ keys: PreparedKey[]; replacing: PkiKeyRow[] }> {
  const authorised = (await deps.repos.professionals.membershipsOfAccount(tenant.id, accountId)).filter((m) => m.state === "authorised");
  if (authorised.length === 0) return { keys: [], replacing: [] };
  const keystore = keystoreOf(deps, tenant);
  const owner = await soleOwner(tenant, password);
  const keys: PreparedKey[] = [];
  const replacing: PkiKeyRow[] = [];
  for (const membership of authorised) {
    keys.push({ membershipId: membership.id, key: await keystore.generate(tenant.id, tenant.policy.professionals.keyAlgorithm, owner) });
    const old = membership.key_id ? await deps.repos.pki.key(tenant.id, membership.key_id) : undefined;
    if (old) replacing.push(old);
  }
  return { keys, replacing };
}

/**
 * Records prepared keys, in the caller's transaction: each becomes its membership's (still
 * authorised), and the key it had before (an activation gone through again) is marked destroyed;
 * `discardKeys` destroys those where they live once the transaction has committed.
 */
export async function recordMembershipKeys(deps: PkiDeps, tenant: Tenant, prepared: PreparedKey[]): Promise<void> {
  for (const { membershipId, key } of prepared) {
    const before = await deps.repos.professionals.membership(tenant.id, membershipId);
    await deps.repos.pki.insertKey(key);
    if (!before || !(await deps.repos.professionals.transitionMembership(tenant.id, membershipId, ["authorised"], { key_id: key.id, updated_at: deps.clock.now() }))) {
      throw new TesseraError("membership.changed", "the membership changed meanwhile", { status: 409 });
    }
    if (before.key_id) await deps.repos.pki.markKeyDestroyed(tenant.id, before.key_id, deps.clock.now());
  }
}

/** Destroys keys where they live (a token's objects); for keys never recorded, or replaced. */
export async function discardKeys(pki: PkiRuntime, tenant: Tenant, keys: PkiKeyRow[]): Promise<void> {
  for (const key of keys) await pki.keystores.holding(key, tenant.policy.pki.keystore).destroy(key);
}

/** The qualified certificate of a professional for one organisation, for `key` (the activation's, or a reset's). */
export function issueProfessionalCertificate(deps: PkiDeps, tenant: Tenant, tenantUrl: string, account: Account, organization: Organization, title: string | null, key: PkiKeyRow, by: Actor): Promise<IssuedCertificate> {
  const request = { profile: "qualified-signing" as const, subject: professionalSubject(account, organization, title), publicKey: Buffer.from(key.public_key, "base64"), accountId: account.id, keyId: key.id };
  return issueCertificate(deps, tenant, tenantUrl, request, by);
}

/**
 * Issues the certificate of every authorised membership of the account for the key made for it
 * at the activation's password step (seed 002 step 6), and makes the membership `active` with its
 * certificate's serial. Runs in the caller's transaction: all of them, or none. Only the issuing
 * CA signs here; no key is made.
 */
export async function issueMembershipCertificates(deps: PkiDeps, tenant: Tenant, tenantUrl: string, account: Account, by: Actor): Promise<{ organization: Organization; certificate: IssuedCertificate }[]> {
  const authorised = (await deps.repos.professionals.membershipsOfAccount(tenant.id, account.id)).filter((m) => m.state === "authorised").map(membershipOf);
  const issued: { organization: Organization; certificate: IssuedCertificate }[] = [];
  for (const membership of authorised) {
    const organization = await findOrganization(deps, tenant, membership.organizationId);
    const key = membership.keyId ? await deps.repos.pki.key(tenant.id, membership.keyId) : undefined;
    if (!key || key.destroyed_at !== null) throw new TesseraError("membership.changed", "the membership changed meanwhile: open the activation link again", { status: 409 });
    const certificate = await issueProfessionalCertificate(deps, tenant, tenantUrl, account, organization, membership.title, key, by);
    const now = deps.clock.now();
    if (!(await deps.repos.professionals.transitionMembership(tenant.id, membership.id, ["authorised"], { state: "active", certificate_serial: certificate.serial, updated_at: now }))) {
      throw new TesseraError("membership.changed", "the membership changed meanwhile", { status: 409 });
    }
    await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "membership.activated", subject: account.id, data: { membership: membership.id, organization: organization.id, serial: certificate.serial } });
    issued.push({ organization, certificate });
  }
  return issued;
}

/** Who revokes a membership's certificate: its holder from the panel, or a representative of its organisation. */
export type RevokedBy = { holder: Account } | { representative: Account };

/**
 * Revokes the certificate of an active membership at once (seed 002: "Revocar el certificado"):
 * the PKI's revocation (status, a new CRL, responses signed ahead dropped: OCSP answers "revoked"
 * from the moment it commits), the key destroyed, the membership `ended`, the holder told. A
 * representative does it when the person leaves the organisation (affiliationChanged).
 */
export async function endMembership(deps: PkiDeps, tenant: Tenant, membershipId: string, reason: RevocationReason, who: RevokedBy, by: Actor): Promise<Membership> {
  const membership = await findMembership(deps, tenant, membershipId);
  if ("holder" in who && membership.accountId !== who.holder.id) throw new TesseraError("membership.not_found", "no such certificate", { status: 404 });
  if (membership.state !== "active" || !membership.certificateSerial) throw new TesseraError("membership.not_active", "this membership has no certificate in force", { status: 409 });
  const organization = await findOrganization(deps, tenant, membership.organizationId);
  if ("representative" in who && !(await isRepresentative(deps, tenant, organization, who.representative.id))) {
    throw new TesseraError("membership.not_representative", `you do not represent ${organization.name}`, { status: 403 });
  }
  const key = membership.keyId ? await deps.repos.pki.key(tenant.id, membership.keyId) : undefined;
  const ended = await deps.repos.atomically(async (repos) => {
    const tx = { ...deps, repos };
    const now = deps.clock.now();
    if (!(await repos.professionals.transitionMembership(tenant.id, membership.id, ["active"], { state: "ended", ended_at: now, updated_at: now }))) {
      throw new TesseraError("membership.not_active", "this membership has no certificate in force", { status: 409 });
    }
    await revokeCertificate(tx, tenant, { serial: membership.certificateSerial!, reason }, by);
    if (key) await repos.pki.markKeyDestroyed(tenant.id, key.id, now);
    await recordAuditBy(repos, deps.clock, by, {
      tenantId: tenant.id,
      type: "membership.ended",
      subject: membership.accountId,
      data: { membership: membership.id, organization: organization.id, serial: membership.certificateSerial, reason, by: "holder" in who ? "holder" : "representative" },
    });
    const holder = "holder" in who ? who.holder : await findAccount(tx, tenant, membership.accountId!);
    if (holder?.email) {
      const locale = holder.locale ?? tenant.defaultLocale;
      await enqueueMessage(tx, {
        tenant,
        channel: "email",
        to: holder.email,
        template: "certificate_revoked",
        locale,
        params: {
          name: `${holder.givenName ?? ""} ${holder.familyName ?? ""}`.trim(),
          organization: organization.name,
          serial: membership.certificateSerial!,
          date: formatDate(now, locale, tenant.policy.timeZone, "dateTime"),
          reason: translator(locale)(`professionals.revocation.${reason}`),
        },
      });
    }
    return { ...membership, state: "ended" as const, endedAt: now };
  });
  // The key goes once the revocation has committed: a token object destroyed for a rolled-back
  // revocation could not be brought back.
  if (key) await deps.pki.keystores.holding(key, tenant.policy.pki.keystore).destroy(key);
  return ended;
}
