import { randomBytes } from "node:crypto";
import type { AdapterPayload, ClientMetadata } from "oidc-provider";
import { z } from "zod";
import { recordAuditBy } from "../../audit/service.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import { type Level, SPID_ACR } from "../../identity/levels.ts";
import { TesseraError, ValidationError } from "../../shared/errors.ts";
import type { OidcClientRow } from "../../store/repos/oidc.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { VIRTUAL_CARD_CLIENT_ID } from "../../shared/virtual-card.ts";
import { RELEASABLE_CLAIMS, SCOPES } from "./claims.ts";
import { SUPPORTED_LEVELS } from "./levels.ts";

export const GRANTS = ["authorization_code", "refresh_token", "client_credentials"] as const;
export const AUTH_METHODS = ["client_secret_basic", "private_key_jwt", "none"] as const;

const loopback = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * A redirect (or logout) URI: absolute, without a fragment (RFC 6749 §3.1.2), over https, or
 * over http to the machine itself (a native or development client, RFC 8252 §7.3).
 */
const RedirectUri = z.string().refine((value) => {
  // Not z.url(): its refinements would still run on a value that is no URL at all.
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.hash) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && loopback.has(url.hostname));
}, "must be an absolute https URL (or http to localhost), without a fragment");

const PublicJwks = z.object({
  keys: z
    .array(z.looseObject({ kty: z.string() }).refine((key) => !("d" in key), "must hold public keys only"))
    .min(1)
    .max(10),
});

/** What an operator gives to register a relying party (`tessera client create`, admin API). */
export const ClientInput = z
  .object({
    name: z.string().trim().min(1).max(100),
    redirectUris: z.array(RedirectUri).max(20).default([]),
    postLogoutRedirectUris: z.array(RedirectUri).max(20).default([]),
    grants: z.array(z.enum(GRANTS)).min(1).default(["authorization_code"]),
    authMethod: z.enum(AUTH_METHODS).default("client_secret_basic"),
    /** Public keys of a `private_key_jwt` client (also for its signed request objects). */
    jwks: PublicJwks.optional(),
    /** Scopes it may ask for. */
    scopes: z.array(z.enum(SCOPES)).default(SCOPES),
    /** Claims it may receive. */
    claims: z.array(z.string().refine((c) => RELEASABLE_CLAIMS.includes(c), "is not a claim Tessera releases")).default([...RELEASABLE_CLAIMS]),
    /** Levels it may ask for; the lowest is used when it asks for none. */
    levels: z.array(z.union([z.literal(1), z.literal(2), z.literal(3)])).min(1).default([...SUPPORTED_LEVELS]),
    subjectType: z.enum(["public", "pairwise"]).default("public"),
    idTokenAlg: z.enum(["RS256", "ES256"]).default("RS256"),
    backchannelLogoutUri: RedirectUri.optional(),
    /** APIs (resource indicators, RFC 8707) it may get JWT access tokens for (RFC 9068). */
    resources: z.array(z.url()).max(10).default([]),
    requirePushedAuthorizationRequests: z.boolean().default(false),
    requireSignedRequestObject: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.grants.includes("authorization_code") && c.redirectUris.length === 0) {
      ctx.addIssue({ code: "custom", path: ["redirectUris"], message: "a client of the authorization code flow needs a redirect URI" });
    }
    if (c.grants.includes("refresh_token") && !c.grants.includes("authorization_code")) {
      ctx.addIssue({ code: "custom", path: ["grants"], message: "refresh_token comes with authorization_code" });
    }
    if (c.authMethod === "private_key_jwt" && !c.jwks) {
      ctx.addIssue({ code: "custom", path: ["jwks"], message: "private_key_jwt needs the client's public keys" });
    }
    if (c.authMethod === "none" && c.grants.includes("client_credentials")) {
      ctx.addIssue({ code: "custom", path: ["authMethod"], message: "client_credentials needs an authenticated client" });
    }
    if (!c.levels.some((l) => SUPPORTED_LEVELS.includes(l))) {
      ctx.addIssue({ code: "custom", path: ["levels"], message: `Tessera authenticates at levels ${SUPPORTED_LEVELS.join(", ")}` });
    }
  });
export type ClientInput = z.input<typeof ClientInput>;

/** Tessera's own client metadata, beside the standard ones (oidc-provider `extraClientMetadata`). */
export const EXTRA_CLIENT_METADATA = ["tessera_claims", "tessera_levels", "tessera_resources"] as const;

/** A registered client as operators see it (never its secret). */
export interface ClientView {
  client_id: string;
  name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grants: string[];
  auth_method: string;
  scopes: string[];
  claims: string[];
  levels: Level[];
  subject_type: string;
  id_token_alg: string;
  backchannel_logout_uri: string | null;
  resources: string[];
  created_at: string;
}

const secretContext = (tenantId: string, clientId: string) => `oidc-client:${tenantId}:${clientId}`;

function metadataOf(clientId: string, c: z.output<typeof ClientInput>): ClientMetadata {
  const code = c.grants.includes("authorization_code");
  return {
    client_id: clientId,
    client_name: c.name,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    grant_types: c.grants,
    response_types: code ? ["code"] : [],
    token_endpoint_auth_method: c.authMethod,
    ...(c.jwks ? { jwks: c.jwks } : {}),
    scope: c.scopes.join(" "),
    subject_type: c.subjectType,
    id_token_signed_response_alg: c.idTokenAlg,
    ...(c.backchannelLogoutUri ? { backchannel_logout_uri: c.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    require_pushed_authorization_requests: c.requirePushedAuthorizationRequests,
    require_signed_request_object: c.requireSignedRequestObject,
    // The first level it may use is the one it gets without asking (OIDC Core §5.5.1.1 default).
    default_acr_values: [SPID_ACR[Math.min(...c.levels.filter((l) => SUPPORTED_LEVELS.includes(l))) as Level]],
    tessera_claims: c.claims,
    tessera_levels: c.levels,
    tessera_resources: c.resources,
  };
}

function viewOf(row: OidcClientRow): ClientView {
  const m = JSON.parse(row.metadata) as ClientMetadata & { tessera_claims: string[]; tessera_levels: Level[]; tessera_resources: string[] };
  return {
    client_id: row.client_id,
    name: m.client_name ?? row.client_id,
    redirect_uris: [...(m.redirect_uris ?? [])],
    post_logout_redirect_uris: [...(m.post_logout_redirect_uris ?? [])],
    grants: [...(m.grant_types ?? [])],
    auth_method: m.token_endpoint_auth_method ?? "client_secret_basic",
    scopes: (m.scope ?? "").split(" ").filter(Boolean),
    claims: m.tessera_claims,
    levels: m.tessera_levels,
    subject_type: m.subject_type ?? "public",
    id_token_alg: m.id_token_signed_response_alg ?? "RS256",
    backchannel_logout_uri: m.backchannel_logout_uri ?? null,
    resources: m.tessera_resources,
    created_at: new Date(row.created_at).toISOString(),
  };
}

/**
 * Registers a relying party. `validate` is oidc-provider's own check of the metadata (the tenant's
 * provider, providers.ts), so a client that is stored is one it will load. Returns the secret,
 * shown this once, for a secret-based client.
 */
export async function createClient(
  deps: IdentityDeps,
  tenant: Tenant,
  input: unknown,
  validate: (metadata: ClientMetadata) => Promise<void>,
  by: Actor,
): Promise<{ client: ClientView; secret: string | null }> {
  const parsed = ClientInput.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError(
      "client.invalid",
      parsed.error.issues.map((i) => ({ field: i.path.join(".") || "(client)", code: "client.invalid", message: i.message })),
    );
  }
  // Hex: operators pass ids as command-line arguments (one starting with "-" would read as an
  // option) and copy them by double-click.
  const clientId = randomBytes(16).toString("hex");
  const metadata = metadataOf(clientId, parsed.data);
  const secret = parsed.data.authMethod === "client_secret_basic" ? randomBytes(32).toString("base64url") : null;
  try {
    await validate({ ...metadata, ...(secret ? { client_secret: secret } : {}) });
  } catch (err) {
    const e = err as { error?: string; error_description?: string };
    if (e.error !== "invalid_client_metadata" && e.error !== "invalid_redirect_uri") throw err;
    throw new ValidationError("client.invalid", [{ field: "(client)", code: "client.invalid", message: e.error_description ?? e.error }]);
  }
  const now = deps.clock.now();
  const row: OidcClientRow = {
    tenant_id: tenant.id,
    client_id: clientId,
    metadata: JSON.stringify(metadata),
    secret: secret ? deps.secrets.seal(secret, secretContext(tenant.id, clientId)) : null,
    created_at: now,
    updated_at: now,
  };
  await deps.repos.atomically(async (repos) => {
    await repos.oidcClients.insert(row);
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "client.created", subject: clientId, data: { name: parsed.data.name } });
  });
  return { client: viewOf(row), secret };
}

export async function listClients(deps: IdentityDeps, tenant: Tenant): Promise<ClientView[]> {
  return (await deps.repos.oidcClients.list(tenant.id)).map(viewOf);
}

export async function findClient(deps: IdentityDeps, tenant: Tenant, clientId: string): Promise<ClientView> {
  const row = await deps.repos.oidcClients.find(tenant.id, clientId);
  if (!row) throw new TesseraError("client.not_found", `no client ${clientId}`, { status: 404, params: { client: clientId } });
  return viewOf(row);
}

/** Removes a client and everything issued to it (codes, tokens, grants, consents). */
export async function deleteClient(deps: IdentityDeps, tenant: Tenant, clientId: string, by: Actor): Promise<void> {
  await deps.repos.atomically(async (repos) => {
    if (!(await repos.oidcClients.delete(tenant.id, clientId))) {
      throw new TesseraError("client.not_found", `no client ${clientId}`, { status: 404, params: { client: clientId } });
    }
    await repos.oidcModels.deleteOfClient(tenant.id, clientId);
    await repos.clientConsents.deleteOfClient(tenant.id, clientId);
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "client.deleted", subject: clientId });
  });
}

/**
 * The virtual card's client: built in, not registered, on every node of a tenant whose
 * credentials can sign remotely. A native public client (RFC 8252): the browser comes back to a
 * loopback address on any port (§7.3), PKCE protects the code, the refresh token keeps the desktop
 * signed in; its access tokens are for the tenant's CSC API only, at level 2.
 */
function virtualCardClient(signingResource: string): AdapterPayload {
  return {
    client_id: VIRTUAL_CARD_CLIENT_ID,
    client_name: "Tessera virtual card",
    application_type: "native",
    redirect_uris: ["http://127.0.0.1/callback"],
    post_logout_redirect_uris: [],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    scope: "openid profile",
    subject_type: "public",
    id_token_signed_response_alg: "ES256",
    default_acr_values: [SPID_ACR[2]],
    tessera_claims: ["given_name", "family_name"],
    tessera_levels: [2],
    tessera_resources: [signingResource],
    authorization_details_types: ["credential"],
  };
}

/** The metadata oidc-provider loads for a client id (adapter.ts), with its secret opened. */
export function clientLoader(deps: IdentityDeps, tenantId: string, options: { signingResource?: string } = {}) {
  return async (clientId: string): Promise<AdapterPayload | undefined> => {
    if (clientId === VIRTUAL_CARD_CLIENT_ID) return options.signingResource ? virtualCardClient(options.signingResource) : undefined;
    const row = await deps.repos.oidcClients.find(tenantId, clientId);
    if (!row) return undefined;
    const stored = JSON.parse(row.metadata) as AdapterPayload & { tessera_resources?: string[] };
    // A client registered for the tenant's CSC API may ask for `credential` authorization details.
    const metadata = options.signingResource && stored.tessera_resources?.includes(options.signingResource) ? { ...stored, authorization_details_types: ["credential"] } : stored;
    return row.secret ? { ...metadata, client_secret: deps.secrets.open(row.secret, secretContext(tenantId, clientId)) } : metadata;
  };
}
