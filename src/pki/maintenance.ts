import { recordAuditBy } from "../audit/service.ts";
import { newId } from "../shared/ids.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { type Authority, authorityCertificateRow, type Hierarchy, initPki, keystoreOf, loadHierarchy } from "./authorities.ts";
import { newSerial, signCertificate } from "./certificate.ts";
import { currentCrl } from "./crl.ts";
import type { PkiDeps } from "./deps.ts";
import { keyIdentifier } from "./extensions.ts";
import { authorityExtensions } from "./profiles.ts";
import { pkiUrls } from "./urls.ts";

const DAY = 24 * 3_600_000;
const YEAR = 365 * DAY;
/** An OCSP responder's or TSA's certificate is renewed this long before it ends. */
const RENEW_BEFORE_MS = 30 * DAY;

/** `start --demo`: every tenant whose policy enables a PKI gets one, once (side by side: RSA keys take seconds). */
export async function ensureDemoPki(deps: PkiDeps, tenants: Tenant[], publicUrl: string): Promise<void> {
  await Promise.all(tenants.filter((t) => t.policy.pki.enabled).map((tenant) => initPki(deps, tenant, `${publicUrl}/t/${tenant.id}`, { actor: "system:demo" })));
}

/**
 * The periodic work of every tenant's PKI (on every node; each step checks under a lock whether
 * it is still due): a new CRL of each CA when the last is older than the policy's reissue period,
 * and a new key and certificate for the OCSP responder and the TSA before theirs expire.
 */
export async function maintainPki(deps: PkiDeps, tenants: Tenant[], publicUrl: string): Promise<void> {
  for (const tenant of tenants) {
    const hierarchy = await loadHierarchy(deps, tenant);
    if (!hierarchy) continue;
    await currentCrl(deps, tenant, hierarchy.root);
    await currentCrl(deps, tenant, hierarchy.issuing);
    for (const role of ["ocsp", "tsa"] as const) {
      if (hierarchy[role].notAfter - deps.clock.now() < RENEW_BEFORE_MS) await renew(deps, tenant, hierarchy, role, `${publicUrl}/t/${tenant.id}`);
    }
  }
}

/** A new key and certificate from the issuing CA for `role`; the old authority retires (what it signed stays valid). */
async function renew(deps: PkiDeps, tenant: Tenant, hierarchy: Hierarchy, role: "ocsp" | "tsa", tenantUrl: string): Promise<void> {
  const { issuing } = hierarchy;
  const old: Authority = hierarchy[role];
  const policy = tenant.policy.pki;
  const keystore = keystoreOf(deps, tenant);
  const key = await keystore.generate(tenant.id, policy.algorithms[role]);
  const spki = Buffer.from(key.public_key, "base64");
  const now = deps.clock.now();
  const lifetime = role === "ocsp" ? policy.validity.ocspSignerDays * DAY : policy.validity.tsaYears * YEAR;
  const notAfter = Math.min(now + lifetime, issuing.notAfter);
  const der = await signCertificate(
    {
      serial: newSerial(),
      issuer: issuing.certificate.subject,
      subject: old.certificate.subject,
      notBefore: now - 5 * 60_000,
      notAfter,
      publicKey: spki,
      extensions: authorityExtensions(role, { subjectKeyId: keyIdentifier(spki), issuerKeyId: issuing.keyId, urls: pkiUrls(tenantUrl), policy }),
    },
    issuing.signer,
  );
  const row = { tenant_id: tenant.id, id: newId(), role, key_id: key.id, certificate: der.toString("base64"), created_at: now, retired_at: null };
  const renewed = await deps.repos.atomically(async (repos) => {
    await repos.lock(`pki:${tenant.id}`);
    const current = (await repos.pki.activeAuthorities(tenant.id)).find((a) => a.role === role);
    // Another node renewed it meanwhile.
    if (current?.id !== old.id) return false;
    const certificate = authorityCertificateRow(row, issuing.id);
    await repos.pki.insertKey(key);
    await repos.pki.retireAuthority(tenant.id, old.id, now);
    await repos.pki.insertAuthority(row);
    await repos.pki.insertCertificate(certificate);
    await recordAuditBy(repos, deps.clock, { actor: "system" }, { tenantId: tenant.id, type: "pki.renewed", data: { role, serial: certificate.serial, notAfter: certificate.not_after } });
    return true;
  });
  if (!renewed) await keystore.destroy(key);
  deps.pki.hierarchies.delete(tenant.id);
}
