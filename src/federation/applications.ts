import { recordAuditBy } from "../audit/service.ts";
import type { Actor, IdentityDeps } from "../identity/deps.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { consentsOf, withdrawConsent } from "./oidc/consent.ts";
import { findServiceProvider } from "./saml/registry.ts";

/**
 * The services a holder agreed to share data with, whatever the protocol (the self-service
 * panel's "applications"): OpenID Connect clients (claims) and SAML service providers (SPID
 * attributes). A SAML service's id is its entityID in base64url behind `saml-`, safe in a URL path.
 */
export interface Application {
  id: string;
  protocol: "oidc" | "saml";
  name: string;
  /** OpenID Connect scopes (none for SAML). */
  scope: string[];
  /** Claim names (OpenID Connect) or SPID attribute names (SAML). */
  claims: string[];
  givenAt: number;
  updatedAt: number;
}

const SAML_PREFIX = "saml-";
const samlId = (entityId: string) => `${SAML_PREFIX}${Buffer.from(entityId).toString("base64url")}`;

export async function applicationsOf(deps: IdentityDeps, tenant: Tenant, accountId: string): Promise<Application[]> {
  const oidc = (await consentsOf(deps, tenant, accountId)).map((c) => ({ id: c.clientId, protocol: "oidc" as const, name: c.name, scope: c.scope, claims: c.claims, givenAt: c.givenAt, updatedAt: c.updatedAt }));
  const saml: Application[] = [];
  for (const row of await deps.repos.saml.consentsOf(tenant.id, accountId)) {
    const sp = await findServiceProvider(deps, tenant, row.sp_entity_id);
    saml.push({ id: samlId(row.sp_entity_id), protocol: "saml", name: sp?.name ?? row.sp_entity_id, scope: [], claims: JSON.parse(row.attributes) as string[], givenAt: row.given_at, updatedAt: row.given_at });
  }
  return [...oidc, ...saml];
}

/** Withdraws the holder's consent to an application; false if there was none. */
export async function withdrawApplication(deps: IdentityDeps, tenant: Tenant, accountId: string, id: string, by: Actor): Promise<boolean> {
  if (!id.startsWith(SAML_PREFIX)) return withdrawConsent(deps, tenant, accountId, id, by);
  const entityId = Buffer.from(id.slice(SAML_PREFIX.length), "base64url").toString();
  return deps.repos.atomically(async (repos) => {
    const withdrawn = await repos.saml.deleteConsent(tenant.id, accountId, entityId);
    if (withdrawn) await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "saml.consent_withdrawn", subject: accountId, data: { sp: entityId } });
    return withdrawn;
  });
}
