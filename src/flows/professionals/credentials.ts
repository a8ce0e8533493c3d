import { recordAuditBy } from "../../audit/service.ts";
import type { Account } from "../../identity/accounts.ts";
import type { Actor } from "../../identity/deps.ts";
import { findOrganization } from "../../identity/organizations.ts";
import { verifyPassword } from "../../identity/password/service.ts";
import { enqueueMessage } from "../../messaging/outbox.ts";
import { keystoreOf } from "../../pki/authorities.ts";
import type { PkiDeps } from "../../pki/deps.ts";
import { revokeCertificate } from "../../pki/revocation.ts";
import { rewrapSoleControl } from "../../pki/software-keystore.ts";
import { passwordShare, protectionOf } from "../../pki/sole-control.ts";
import { TesseraError, ValidationError } from "../../shared/errors.ts";
import { formatDate } from "../../shared/i18n/dates.ts";
import { translator } from "../../shared/i18n/translate.ts";
import type { PkiKeyRow } from "../../store/repos/pki.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { discardKeys, issueProfessionalCertificate, type PreparedKey, soleOwner } from "./certificates.ts";

/**
 * What a new password does to the keys under its holder's sole control (pki/sole-control.ts):
 * changed knowing the old one (the panel asks for it), each key is re-wrapped under the new one;
 * reset without it (recovery), the old keys can no longer be unlocked by anyone, so their
 * certificates are revoked (superseded) and new keys and certificates are issued at once under
 * the new password, for the same organisations. Keys on a PKCS#11 token do not depend on the
 * password and stay as they are.
 */

/** The account's active credentials whose keys are under its password. */
async function protectedKeys(deps: PkiDeps, tenant: Tenant, accountId: string): Promise<{ membershipId: string; key: PkiKeyRow }[]> {
  const out: { membershipId: string; key: PkiKeyRow }[] = [];
  for (const m of await deps.repos.professionals.membershipsOfAccount(tenant.id, accountId)) {
    if (m.state !== "active" || !m.key_id) continue;
    const key = await deps.repos.pki.key(tenant.id, m.key_id);
    if (key && key.destroyed_at === null && key.protection !== null) out.push({ membershipId: m.id, key });
  }
  return out;
}

/** Whether changing this account's password needs the current one (it has keys under it). */
export async function keysUnderPassword(deps: PkiDeps, tenant: Tenant, accountId: string): Promise<boolean> {
  return (await protectedKeys(deps, tenant, accountId)).length > 0;
}

/**
 * The panel's change of password, for the keys: each re-wrapped under `next`, which needs
 * `current` (refused, field `current_password`, when missing or wrong). In the caller's
 * transaction, with the password change itself.
 */
export async function rewrapCredentials(deps: PkiDeps, tenant: Tenant, account: Account, current: string | undefined, next: string, by: Actor): Promise<number> {
  const keys = await protectedKeys(deps, tenant, account.id);
  if (keys.length === 0) return 0;
  const t = translator(account.locale ?? tenant.defaultLocale);
  if (!current) throw new ValidationError("signing.current_password_required", [{ field: "current_password", code: "signing.current_password_required", message: t("signing.current_password_required") }]);
  if (!(await verifyPassword(deps, tenant, account, current)).ok) throw new ValidationError("signing.wrong_password", [{ field: "current_password", code: "signing.wrong_password", message: t("signing.wrong_password") }]);
  const owner = await soleOwner(tenant, next);
  for (const { key } of keys) {
    const share = await passwordShare(current, protectionOf(key.protection)!);
    await deps.repos.pki.rewrapKey(tenant.id, key.id, rewrapSoleControl(deps.secrets, key, share, owner), JSON.stringify(owner.protection));
  }
  await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "credentials.rewrapped", subject: account.id, data: { keys: keys.length } });
  return keys.length;
}

/** After a reset: a new key under the new password for each credential whose key was under the old one (made before the transaction). */
export async function prepareReissue(deps: PkiDeps, tenant: Tenant, accountId: string, password: string): Promise<{ keys: PreparedKey[]; replacing: PkiKeyRow[] }> {
  const protectedOnes = await protectedKeys(deps, tenant, accountId);
  if (protectedOnes.length === 0) return { keys: [], replacing: [] };
  const owner = await soleOwner(tenant, password);
  const keystore = keystoreOf(deps, tenant);
  const keys: PreparedKey[] = [];
  for (const { membershipId } of protectedOnes) keys.push({ membershipId, key: await keystore.generate(tenant.id, tenant.policy.professionals.keyAlgorithm, owner) });
  return { keys, replacing: protectedOnes.map((p) => p.key) };
}

/**
 * After a reset, in the caller's transaction: each credential's old certificate revoked
 * (superseded, at once in CRL and OCSP), its old key marked destroyed, a certificate issued for
 * the new key with the same subject; the holder is told by e-mail. Returns how many.
 */
export async function reissueCredentials(deps: PkiDeps, tenant: Tenant, tenantUrl: string, account: Account, prepared: PreparedKey[], by: Actor): Promise<number> {
  const issued: string[] = [];
  for (const { membershipId, key } of prepared) {
    const membership = await deps.repos.professionals.membership(tenant.id, membershipId);
    if (!membership || membership.state !== "active" || !membership.certificate_serial || !membership.key_id) continue;
    const organization = await findOrganization(deps, tenant, membership.organization_id);
    await revokeCertificate(deps, tenant, { serial: membership.certificate_serial, reason: "superseded" }, by);
    await deps.repos.pki.markKeyDestroyed(tenant.id, membership.key_id, deps.clock.now());
    await deps.repos.pki.insertKey(key);
    const certificate = await issueProfessionalCertificate(deps, tenant, tenantUrl, account, organization, membership.title, key, by);
    // Moved meanwhile (ended on another node): the whole re-issue rolls back rather than leave a stray certificate.
    if (!(await deps.repos.professionals.transitionMembership(tenant.id, membership.id, ["active"], { key_id: key.id, certificate_serial: certificate.serial, updated_at: deps.clock.now() }))) {
      throw new TesseraError("membership.changed", "the membership changed meanwhile", { status: 409 });
    }
    await recordAuditBy(deps.repos, deps.clock, by, { tenantId: tenant.id, type: "membership.reissued", subject: account.id, data: { membership: membership.id, superseded: membership.certificate_serial, serial: certificate.serial } });
    issued.push(`- ${organization.name}: ${certificate.serial}`);
  }
  if (issued.length > 0 && account.email) {
    const locale = account.locale ?? tenant.defaultLocale;
    await enqueueMessage(deps, {
      tenant,
      channel: "email",
      to: account.email,
      template: "certificates_reissued",
      locale,
      params: { name: `${account.givenName ?? ""} ${account.familyName ?? ""}`.trim(), certificates: issued.join("\n"), date: formatDate(deps.clock.now(), locale, tenant.policy.timeZone, "dateTime") },
    });
  }
  return issued.length;
}

/** What a reset prepared: the new keys, and the ones they replace. */
export type Reissue = Awaited<ReturnType<typeof prepareReissue>>;

/**
 * The three parts a step that sets a password without the old one (recovery, an expired
 * password's change) adds for the keys: new ones made before its transaction, the certificates
 * re-issued in it, and after it the keys not kept (a password refused) or replaced destroyed.
 */
export function reissueOnReset(pki: PkiDeps["pki"]) {
  return {
    prepare: (deps: Omit<PkiDeps, "pki">, tenant: Tenant, accountId: string, password: string): Promise<Reissue> =>
      tenant.policy.professionals.enabled ? prepareReissue({ ...deps, pki }, tenant, accountId, password) : Promise.resolve({ keys: [], replacing: [] }),
    record: (deps: Omit<PkiDeps, "pki">, tenant: Tenant, tenantUrl: string, account: Account, prepared: Reissue, by: Actor) =>
      prepared.keys.length > 0 ? reissueCredentials({ ...deps, pki }, tenant, tenantUrl, account, prepared.keys, by) : Promise.resolve(0),
    settle: (tenant: Tenant, rejected: boolean, prepared: Reissue) => discardKeys(pki, tenant, rejected ? prepared.keys.map((k) => k.key) : prepared.replacing),
  };
}
