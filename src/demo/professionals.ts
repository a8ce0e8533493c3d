import { findAccountByIdentifier } from "../identity/accounts.ts";
import { addRepresentative, createOrganization, findOrganization } from "../identity/organizations.ts";
import { discardKeys, issueMembershipCertificates, soleOwner } from "../flows/professionals/certificates.ts";
import { DEMO_PASSWORD } from "./identities.ts";
import { keystoreOf } from "../pki/authorities.ts";
import { checkRequest, requestMembership } from "../flows/professionals/memberships.ts";
import type { PkiDeps } from "../pki/deps.ts";
import { TesseraError } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import type { Store } from "../store/db.ts";
import { findTenant } from "../tenants/service.ts";

const BY = { actor: "system:demo" };

/** The `pro` tenant's demo organisations; Ane Etxeberria (12345678Z) represents both. Valid CIFs of no real entity. */
export const demoOrganizations = [
  { name: "Ayuntamiento de Ejemplo", taxId: "P4800100B", representatives: ["12345678Z"] },
  { name: "Ejemplo Ingeniería S.L.", taxId: "B48123459", representatives: ["12345678Z"] },
];

/**
 * The demo's organisations and a request waiting in Ane's console: Miren Arana's, recorded at
 * the Bilbao desk by Jon Agirre. Safe when several nodes start at once.
 */
export async function seedDemoOrganizations(store: Store, deps: PkiDeps, tenantUrl: (tenant: string) => string): Promise<void> {
  const tenant = await findTenant(store.repos, "pro");
  if (!tenant?.policy.professionals.enabled) return;
  await store.transaction(async (repos) => {
    const tx = { ...deps, repos };
    await repos.lock(`demo-seed:${tenant.id}:organizations`);
    for (const demo of demoOrganizations) {
      if (await repos.professionals.organizationByTaxId(tenant.id, demo.taxId)) continue;
      const organization = await createOrganization(tx, tenant, { name: demo.name, taxId: demo.taxId }, BY);
      for (const dni of demo.representatives) {
        const account = await findAccountByIdentifier(tx, tenant, dni);
        if (account) await addRepresentative(tx, tenant, organization, account, BY);
      }
    }
    const officer = await findAccountByIdentifier(tx, tenant, "11111111H");
    const city = await findOrganization(tx, tenant, "P4800100B");
    if (officer && !(await repos.professionals.openMembership(tenant.id, city.id, "44556677L"))) {
      const request = await checkRequest(tx, tenant, {
        organization: city.id,
        dni: "44556677L",
        given_name: "Miren",
        family_name: "Arana",
        email: "miren.arana@example.eus",
        phone: "+34600000003",
        document_expiry_date: "2031-06-30",
        title: "Técnica de urbanismo",
      });
      await requestMembership(tx, tenant, request, { channel: "desk", desk: "bilbao", officer: officer.id, checks: ["document_original", "document_valid", "photo_matches"] }, BY, { consoleUrl: `${tenantUrl(tenant.id)}/organisations` });
    }
  });
}

/**
 * Ane's certificate of the Ayuntamiento, issued once the tenant's PKI exists (after the server
 * listens): a membership authorised by herself as its representative, activated at once.
 */
export async function ensureDemoCertificates(store: Store, deps: PkiDeps, tenantUrl: (tenant: string) => string): Promise<void> {
  const tenant = await findTenant(store.repos, "pro");
  if (!tenant?.policy.professionals.enabled) return;
  // Made before the transaction, as the activation makes them; kept only if the transaction uses it.
  const key = await keystoreOf(deps, tenant).generate(tenant.id, tenant.policy.professionals.keyAlgorithm, await soleOwner(tenant, DEMO_PASSWORD));
  let kept = false;
  await store
    .transaction(async (repos) => {
      const tx = { ...deps, repos };
      await repos.lock(`demo-seed:${tenant.id}:certificates`);
      const ane = await findAccountByIdentifier(tx, tenant, "12345678Z");
      const city = await findOrganization(tx, tenant, "P4800100B");
      if (!ane || (await repos.professionals.membershipsOfAccount(tenant.id, ane.id)).length > 0) return;
      const now = deps.clock.now();
      await repos.professionals.insertMembership({
        tenant_id: tenant.id,
        id: newId(),
        organization_id: city.id,
        account_id: ane.id,
        dni: ane.identifier,
        given_name: ane.givenName ?? "",
        family_name: ane.familyName ?? "",
        email: ane.email ?? "",
        phone: ane.phone,
        document_expiry_date: ane.documentExpiryDate ?? "2030-01-01",
        title: "Secretaria general",
        channel: "desk",
        evidence: JSON.stringify({ channel: "desk", desk: "bilbao", officer: "system:demo", checks: [] }),
        recorded_by: null,
        state: "authorised",
        decided_by: ane.id,
        decided_at: now,
        refusal_reason: null,
        certificate_serial: null,
        key_id: key.id,
        ended_at: null,
        created_at: now,
        updated_at: now,
      });
      await repos.pki.insertKey(key);
      await issueMembershipCertificates(tx, tenant, tenantUrl(tenant.id), ane, BY);
      kept = true;
    })
    .catch((error: unknown) => {
      if (!(error instanceof TesseraError && error.code === "organization.not_found")) throw error;
    });
  if (!kept) await discardKeys(deps.pki, tenant, [key]);
}
