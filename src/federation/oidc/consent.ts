import type { Grant, Interaction, KoaContextWithOIDC, Provider } from "oidc-provider";
import { recordAuditBy } from "../../audit/service.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { CLAIMS_BY_SCOPE, RELEASABLE_CLAIMS } from "./claims.ts";

/**
 * Consent to share claims with a client: asked once per client and remembered, beyond the
 * provider's session, until the holder withdraws it in the self-service panel. oidc-provider's
 * own grants end with the session that made them; a remembered consent makes a new grant.
 */

/** What the consent screen lists: the claims asked for that the client may receive, and offline access. */
export interface ConsentRequest {
  clientId: string;
  claims: string[];
  offlineAccess: boolean;
  /** APIs (resource indicators) the client asks tokens for. */
  resources: string[];
}

interface PromptDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

/** The claims that scopes and named claims add up to, among those the client may receive (`sub` aside). */
function claimsFor(scopes: readonly string[], named: readonly string[], allowedClaims: readonly string[] | undefined): string[] {
  const fromScopes = scopes.flatMap((s) => (s in CLAIMS_BY_SCOPE ? [...CLAIMS_BY_SCOPE[s as keyof typeof CLAIMS_BY_SCOPE]] : []));
  const allowed = new Set(allowedClaims ?? RELEASABLE_CLAIMS);
  return [...new Set([...fromScopes, ...named])].filter((c) => c !== "sub" && allowed.has(c));
}

export function consentRequest(interaction: Interaction, allowedClaims: readonly string[] | undefined): ConsentRequest {
  const details = interaction.prompt.details as PromptDetails;
  const scopes = details.missingOIDCScope ?? [];
  return {
    clientId: interaction.params.client_id as string,
    claims: claimsFor(scopes, details.missingOIDCClaims ?? [], allowedClaims),
    offlineAccess: scopes.includes("offline_access"),
    resources: Object.keys(details.missingResourceScopes ?? {}),
  };
}

/**
 * The holder agreed: what the prompt found missing joins the interaction's grant (or a new one),
 * and the consent is remembered. Returns the grant's id for the interaction result.
 */
export async function giveConsent(deps: IdentityDeps, tenant: Tenant, provider: Provider, interaction: Interaction, accountId: string, by: Actor, rar?: { type: string; [field: string]: unknown }[]): Promise<string> {
  const clientId = interaction.params.client_id as string;
  const details = interaction.prompt.details as PromptDetails;
  const grant = (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(" "));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(" "));
  // Authorization details hold for this authorization only (a signature's SAD): none from before.
  grant.rar = rar && rar.length > 0 ? [] : undefined;
  for (const detail of rar ?? []) grant.addRar(detail);
  const grantId = await grant.save();

  const now = deps.clock.now();
  const before = await deps.repos.clientConsents.find(tenant.id, accountId, clientId);
  const scope = new Set([...(before?.scope.split(" ") ?? []), ...grant.getOIDCScope().split(" ")].filter(Boolean));
  const claims = new Set([...(before ? (JSON.parse(before.claims) as string[]) : []), ...grant.getOIDCClaims()]);
  await deps.repos.atomically(async (repos) => {
    await repos.clientConsents.upsert({
      tenant_id: tenant.id,
      account_id: accountId,
      client_id: clientId,
      scope: [...scope].join(" "),
      claims: JSON.stringify([...claims]),
      given_at: before?.given_at ?? now,
      updated_at: now,
    });
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "oidc.consent_given", subject: accountId, data: { client: clientId, scope: [...scope].join(" "), claims: [...claims] } });
  });
  return grantId;
}

/** A grant made from the consent the holder gave this client before, if any (configuration.ts). */
export async function rememberedGrant(deps: IdentityDeps, tenant: Tenant, ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const accountId = ctx.oidc.session?.accountId;
  const clientId = ctx.oidc.client?.clientId;
  if (!accountId || !clientId) return undefined;
  const consent = await deps.repos.clientConsents.find(tenant.id, accountId, clientId);
  if (!consent) return undefined;
  const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
  grant.addOIDCScope(consent.scope);
  grant.addOIDCClaims(JSON.parse(consent.claims) as string[]);
  await grant.save();
  return grant;
}

/** Clients the holder agreed to share data with (the self-service panel's "applications"). */
export async function consentsOf(deps: IdentityDeps, tenant: Tenant, accountId: string) {
  const rows = await deps.repos.clientConsents.ofAccount(tenant.id, accountId);
  const consents = [];
  for (const row of rows) {
    const found = await deps.repos.oidcClients.find(tenant.id, row.client_id);
    const client = found ? (JSON.parse(found.metadata) as { client_name?: string; tessera_claims?: string[] }) : undefined;
    const scope = row.scope.split(" ").filter(Boolean);
    consents.push({
      clientId: row.client_id,
      name: client?.client_name ?? row.client_id,
      scope,
      // What the client receives: the claims of the scopes and those asked for by name.
      claims: claimsFor(scope, JSON.parse(row.claims) as string[], client?.tessera_claims),
      givenAt: row.given_at,
      updatedAt: row.updated_at,
    });
  }
  return consents;
}

/**
 * The holder withdraws a client's access: the consent goes, with every grant, code and token the
 * client holds for them. The client will have to ask again.
 */
export async function withdrawConsent(deps: IdentityDeps, tenant: Tenant, accountId: string, clientId: string, by: Actor): Promise<boolean> {
  return deps.repos.atomically(async (repos) => {
    const withdrawn = await repos.clientConsents.delete(tenant.id, accountId, clientId);
    await repos.oidcModels.deleteOfAccountAndClient(tenant.id, accountId, clientId);
    if (withdrawn) await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "oidc.consent_withdrawn", subject: accountId, data: { client: clientId } });
    return withdrawn;
  });
}
