import { z } from "zod";
import { recordAuditBy } from "../audit/service.ts";
import { TesseraError } from "../shared/errors.ts";
import { newId } from "../shared/ids.ts";
import type { OrganizationRow } from "../store/repos/professionals.ts";
import type { Tenant } from "../tenants/tenant.ts";
import type { Account } from "./accounts.ts";
import type { Actor, IdentityDeps } from "./deps.ts";
import { normalizeCif } from "./identifiers.ts";

/**
 * An organisation professionals belong to and act for (seed 002: "cada entidad a la que el
 * profesional pertenezca"): a Spanish legal entity named by its tax number (CIF), with the
 * representatives who authorise its members' requests.
 */
export interface Organization {
  id: string;
  name: string;
  /** The CIF, normalised. */
  taxId: string;
  country: string;
  createdAt: number;
}

export const organizationOf = (row: OrganizationRow): Organization => ({ id: row.id, name: row.name, taxId: row.tax_id, country: row.country, createdAt: row.created_at });

/**
 * The organisationIdentifier its members' certificates carry (ETSI EN 319 412-1 §5.1.4): the VAT
 * number, which for a Spanish entity is ES and its CIF.
 */
export const organizationIdentifier = (organization: Organization) => `VAT${organization.country}-${organization.taxId}`;

export const NewOrganization = z
  .object({
    // A certificate's organizationName holds at most 64 characters (RFC 5280 ub-organization-name).
    name: z.string().trim().min(2).max(64),
    taxId: z.string().trim().min(1).max(20),
  })
  .strict();

export async function createOrganization(deps: IdentityDeps, tenant: Tenant, input: z.input<typeof NewOrganization>, by: Actor): Promise<Organization> {
  const parsed = NewOrganization.safeParse(input);
  if (!parsed.success) throw new TesseraError("organization.invalid", parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const taxId = normalizeCif(parsed.data.taxId);
  if (!taxId) throw new TesseraError("organization.invalid_tax_id", `${JSON.stringify(parsed.data.taxId)} is not a valid CIF (a letter, seven digits and the control character)`);
  return deps.repos.atomically(async (repos) => {
    if (await repos.professionals.organizationByTaxId(tenant.id, taxId)) {
      throw new TesseraError("organization.exists", `an organisation with tax number ${taxId} already exists`, { status: 409 });
    }
    const row: OrganizationRow = { tenant_id: tenant.id, id: newId(), name: parsed.data.name, tax_id: taxId, country: "ES", created_at: deps.clock.now() };
    await repos.professionals.insertOrganization(row);
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "organization.created", subject: null, data: { organization: row.id, name: row.name, taxId } });
    return organizationOf(row);
  });
}

/** An organisation by id or by tax number, or a 404. */
export async function findOrganization(deps: IdentityDeps, tenant: Tenant, idOrTaxId: string): Promise<Organization> {
  const taxId = normalizeCif(idOrTaxId);
  const row = (taxId ? await deps.repos.professionals.organizationByTaxId(tenant.id, taxId) : undefined) ?? (await deps.repos.professionals.organization(tenant.id, idOrTaxId));
  if (!row) throw new TesseraError("organization.not_found", `no organisation ${JSON.stringify(idOrTaxId.slice(0, 40))}`, { status: 404 });
  return organizationOf(row);
}

export async function listOrganizations(deps: IdentityDeps, tenant: Tenant): Promise<Organization[]> {
  return (await deps.repos.professionals.organizations(tenant.id)).map(organizationOf);
}

/** The organisations an account represents. */
export async function representedBy(deps: IdentityDeps, tenant: Tenant, accountId: string): Promise<Organization[]> {
  return (await deps.repos.professionals.represented(tenant.id, accountId)).map(organizationOf);
}

export async function isRepresentative(deps: IdentityDeps, tenant: Tenant, organization: Organization, accountId: string): Promise<boolean> {
  return (await deps.repos.professionals.representatives(tenant.id, organization.id)).includes(accountId);
}

/** Makes an active account a representative of the organisation (its legal representative or the person it put in charge). */
export async function addRepresentative(deps: IdentityDeps, tenant: Tenant, organization: Organization, account: Account, by: Actor): Promise<void> {
  if (account.state !== "active") throw new TesseraError("organization.inactive_representative", "only an active identity can represent an organisation", { status: 409 });
  await deps.repos.atomically(async (repos) => {
    await repos.professionals.putRepresentative(tenant.id, organization.id, account.id, deps.clock.now());
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "organization.representative_added", subject: account.id, data: { organization: organization.id } });
  });
}

export async function removeRepresentative(deps: IdentityDeps, tenant: Tenant, organization: Organization, account: Account, by: Actor): Promise<boolean> {
  return deps.repos.atomically(async (repos) => {
    const removed = await repos.professionals.removeRepresentative(tenant.id, organization.id, account.id);
    if (removed) await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "organization.representative_removed", subject: account.id, data: { organization: organization.id } });
    return removed;
  });
}
