import { recordAuditBy } from "../../audit/service.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import { TesseraError, ValidationError } from "../../shared/errors.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { MetadataRejected, parseServiceProviderMetadata, ServiceProviderDescription } from "./service-provider.ts";

/**
 * A tenant's service providers. Registering again with new metadata replaces the old (new
 * certificates, endpoints or attribute sets); removing one forgets its sessions and consents.
 */
export async function registerServiceProvider(deps: IdentityDeps, tenant: Tenant, metadata: string, by: Actor): Promise<ServiceProviderDescription> {
  let description: ServiceProviderDescription;
  try {
    description = parseServiceProviderMetadata(metadata);
  } catch (error) {
    if (error instanceof MetadataRejected) throw new ValidationError("saml.metadata_invalid", [{ field: "metadata", code: "invalid", message: error.message }]);
    throw error;
  }
  const now = deps.clock.now();
  await deps.repos.atomically(async (repos) => {
    const before = await repos.saml.serviceProvider(tenant.id, description.entityId);
    await repos.saml.putServiceProvider({
      tenant_id: tenant.id,
      entity_id: description.entityId,
      metadata,
      description: JSON.stringify(description),
      created_at: before?.created_at ?? now,
      updated_at: now,
    });
    await recordAuditBy(repos, deps.clock, by, {
      tenantId: tenant.id,
      type: before ? "saml.sp_updated" : "saml.sp_registered",
      data: { entityId: description.entityId, name: description.name },
    });
  });
  return description;
}

/**
 * Descriptions by stored text: every SSO request reads its SP's, and the text only changes when
 * the metadata does. Frozen, as they are shared.
 */
const parsed = new Map<string, ServiceProviderDescription>();
function descriptionOf(text: string): ServiceProviderDescription {
  let description = parsed.get(text);
  if (!description) {
    description = Object.freeze(ServiceProviderDescription.parse(JSON.parse(text)));
    if (parsed.size >= 1000) parsed.clear();
    parsed.set(text, description);
  }
  return description;
}

export async function findServiceProvider(deps: IdentityDeps, tenant: Tenant, entityId: string): Promise<ServiceProviderDescription | undefined> {
  const row = await deps.repos.saml.serviceProvider(tenant.id, entityId);
  return row ? descriptionOf(row.description) : undefined;
}

export async function listServiceProviders(deps: IdentityDeps, tenant: Tenant): Promise<ServiceProviderDescription[]> {
  return (await deps.repos.saml.serviceProviders(tenant.id)).map((row) => descriptionOf(row.description));
}

export async function removeServiceProvider(deps: IdentityDeps, tenant: Tenant, entityId: string, by: Actor): Promise<void> {
  await deps.repos.atomically(async (repos) => {
    if (!(await repos.saml.deleteServiceProvider(tenant.id, entityId))) {
      throw new TesseraError("saml.sp_not_found", `no service provider ${entityId}`, { status: 404 });
    }
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "saml.sp_removed", data: { entityId } });
  });
}
