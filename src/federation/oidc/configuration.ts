import type { IncomingMessage } from "node:http";
import type { Client, Configuration, JWK, KoaContextWithOIDC } from "oidc-provider";
import { z } from "zod";
import { findAccount } from "../../identity/accounts.ts";
import type { IdentityDeps } from "../../identity/deps.ts";
import { SPID_ACR } from "../../identity/levels.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { storeAdapter } from "./adapter.ts";
import { CLAIMS_BY_NAME_ONLY, CLAIMS_BY_SCOPE, claimsOf, RELEASABLE_CLAIMS, SCOPES } from "./claims.ts";
import { clientLoader, EXTRA_CLIENT_METADATA } from "./clients.ts";
import { rememberedGrant } from "./consent.ts";
import type { OidcModule } from "./internals.ts";
import { SUPPORTED_LEVELS } from "./levels.ts";
import { interactionPolicy, type SessionOf } from "./policy.ts";

/** Pages oidc-provider shows itself, drawn by the web layer in the tenant's look and language. */
export interface OidcPages {
  error(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string | undefined }): Promise<void> | void;
  logoutConfirm(ctx: KoaContextWithOIDC, form: string): Promise<void> | void;
  loggedOut(ctx: KoaContextWithOIDC): Promise<void> | void;
}

export interface OidcServices {
  deps: IdentityDeps;
  publicUrl: { current: string };
  pages: OidcPages;
  /** The Tessera session of a request (the web layer resolved it). */
  sessionOf: SessionOf;
  /** An RP-initiated logout has ended the provider's session: end the Tessera one too. */
  endSession(req: IncomingMessage): Promise<void>;
  log: { error(details: object, message: string): void; warn(details: object, message: string): void };
  /** Relying parties on private and loopback addresses may be called (back-channel logout). */
  privateNetwork?: boolean;
}

/** Endpoint paths below the issuer (`<base-url>/t/<tenant>`); discovery stays where it must. */
export const ROUTES = {
  authorization: "/oidc/auth",
  token: "/oidc/token",
  userinfo: "/oidc/userinfo",
  jwks: "/oidc/jwks",
  end_session: "/oidc/logout",
  introspection: "/oidc/token/introspection",
  revocation: "/oidc/token/revocation",
  pushed_authorization_request: "/oidc/par",
} as const;

/**
 * A `credential` authorization detail (CSC API v2 §8.3, RFC 9396): the credential, how many
 * signatures, and the hashes to sign (`documentDigests`, or v1's `hashes`) with their algorithm.
 */
export const CredentialDetail = z
  .object({
    type: z.literal("credential"),
    credentialID: z.string().min(1).max(100),
    numSignatures: z.number().int().min(1).max(10_000),
    hashAlgorithmOID: z.string().max(40).optional(),
    documentDigests: z.array(z.object({ hash: z.string().min(1).max(200), label: z.string().max(200).optional() })).min(1).max(10_000).optional(),
    hashes: z.array(z.string().min(1).max(200)).min(1).max(10_000).optional(),
    locations: z.array(z.string()).optional(),
  })
  .passthrough()
  .refine((d) => d.documentDigests !== undefined || d.hashes !== undefined, "name the hashes to sign (documentDigests)");
export type CredentialDetail = z.infer<typeof CredentialDetail>;

/** The hashes a credential detail authorises. */
export const detailHashes = (d: CredentialDetail) => d.documentDigests?.map((x) => x.hash) ?? d.hashes ?? [];

/** The resource (audience) of the tenant's CSC API's access tokens: its base URL. */
export const cscResource = (issuer: string) => `${issuer}/csc/v2`;

/** Where the end user goes when oidc-provider needs them (web/routes/oidc.ts serves it). */
export const interactionPath = (tenantId: string, uid: string) => `/t/${tenantId}/authorize/${uid}`;

const HOUR = 3600;
const DAY = 24 * HOUR;

type TesseraClient = Client & { tessera_claims?: string[]; tessera_resources?: string[] };

/**
 * oidc-provider's configuration for one tenant. Standards as the issue lists them: authorization
 * code with PKCE (S256, always), PAR, signed request objects, client_secret_basic and
 * private_key_jwt, refresh tokens with rotation, client credentials, userinfo, introspection,
 * revocation, RP-initiated and back-channel logout; SPID ACRs for levels; claims from the account.
 */
export function providerConfiguration(oidc: OidcModule, tenant: Tenant, services: OidcServices, keys: JWK[]): Configuration {
  const { deps, pages } = services;
  const https = services.publicUrl.current.startsWith("https://");
  const cookieOptions = { path: `/t/${tenant.id}/`, httpOnly: true, sameSite: "lax" as const, secure: https, signed: true };
  return {
    adapter: storeAdapter(deps, tenant.id, oidc.errors, clientLoader(deps, tenant.id, tenant.policy.signing.enabled ? { signingResource: cscResource(`${services.publicUrl.current}/t/${tenant.id}`) } : {})),
    clients: [],
    jwks: { keys },
    routes: ROUTES,

    async findAccount(ctx, sub) {
      const account = await findAccount(deps, tenant, sub);
      if (!account || account.state !== "active") return undefined;
      return {
        accountId: sub,
        claims() {
          // Only what the client may receive; oidc-provider then keeps what was asked and granted.
          const allowed = new Set<string>((ctx.oidc.client?.tessera_claims as string[] | undefined) ?? RELEASABLE_CLAIMS);
          const claims = Object.entries(claimsOf(account)).filter(([name]) => allowed.has(name));
          return { sub, ...Object.fromEntries(claims) };
        },
      };
    },
    claims: {
      ...CLAIMS_BY_SCOPE,
      // Every ID token says how its holder signed in: the level reached and the methods (SPID/CIE).
      openid: ["sub", "acr", "amr"],
      ...Object.fromEntries(CLAIMS_BY_NAME_ONLY.map((c) => [c, null])),
      sid: null,
      auth_time: null,
    },
    scopes: SCOPES,
    acrValues: SUPPORTED_LEVELS.map((l) => SPID_ACR[l]),
    subjectTypes: ["public", "pairwise"],
    pairwiseIdentifier(_ctx, accountId, client) {
      // Stable per sector (the redirect URIs' host), unguessable without the master key.
      return deps.secrets.mac(`pairwise:${tenant.id}:${(client.sectorIdentifier as string | undefined) ?? client.clientId}:${accountId}`);
    },
    pkce: { required: () => true },
    clientAuthMethods: ["client_secret_basic", "private_key_jwt", "none"],
    extraClientMetadata: { properties: [...EXTRA_CLIENT_METADATA] },
    allowOmittingSingleRegisteredRedirectUri: false,
    // The code flow only (SPID/CIE OIDC, RFC 9700 §2.1.2): nothing that puts tokens in the front channel.
    responseTypes: ["code"],
    enabledJWA: {
      requestObjectSigningAlgValues: ["RS256", "PS256", "ES256"],
      clientAuthSigningAlgValues: ["RS256", "PS256", "ES256"],
      idTokenSigningAlgValues: ["RS256", "ES256"],
    },
    // The userinfo endpoint takes the token in the Authorization header only (SPID OIDC, RFC 6750 §5.3).
    acceptQueryParamAccessTokens: false,

    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      requestObjects: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => pages.logoutConfirm(ctx, form),
        postLogoutSuccessSource: (ctx) => pages.loggedOut(ctx),
      },
      // CSC API v2 `credential` authorizations (RFC 9396): the holder authorises, on Tessera's pages,
      // a credential to sign the hashes given; the access token carries the SAD (web/routes/oidc.ts).
      richAuthorizationRequests: {
        enabled: tenant.policy.signing.enabled,
        types: {
          credential: {
            validate(_ctx, detail) {
              const parsed = CredentialDetail.safeParse(detail);
              if (!parsed.success) throw new oidc.errors.InvalidAuthorizationDetails(`credential authorization details: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(detail)"} ${i.message}`).join("; ")}`);
            },
          },
        },
        // Only what the holder authorised in this interaction (the grant keeps nothing older).
        authorizationDetailsForGrantSource: (ctx) => (ctx.oidc.params?.authorization_details !== undefined ? (ctx.oidc.grant?.rar ?? []) : []),
        authorizationDetailsForAccessToken: (_ctx, _token, source) => source?.rar ?? [],
        authorizationDetailsForIntrospection: (_ctx, token) => token.rar ?? [],
      },
      resourceIndicators: {
        enabled: true,
        // A client's registered API, when it names none and has only one: client credentials.
        defaultResource(ctx, client) {
          const resources = (client as TesseraClient).tessera_resources ?? [];
          return ctx.oidc.route === "token" && ctx.oidc.params?.grant_type === "client_credentials" && resources.length === 1 ? resources[0] : undefined;
        },
        getResourceServerInfo(ctx, resource, client) {
          if (!((client as TesseraClient).tessera_resources ?? []).includes(resource)) {
            throw new oidc.errors.InvalidTarget("this client may not ask for tokens for that resource");
          }
          // The tenant's own CSC API (remote signing): `service` lists and authorises credentials;
          // `credential`, with authorization_details, signs what the holder authorised (briefly).
          if (tenant.policy.signing.enabled && resource === cscResource(ctx.oidc.provider.issuer)) {
            const credential = ctx.oidc.params?.authorization_details !== undefined || (ctx.oidc.params?.scope as string | undefined)?.split(" ").includes("credential");
            return { scope: "service credential", audience: resource, accessTokenTTL: credential ? tenant.policy.signing.sadSeconds : HOUR, accessTokenFormat: "jwt", jwt: { sign: { alg: "ES256" } } };
          }
          // JWT access tokens (RFC 9068) an API checks with the tenant's published keys.
          return { scope: "", audience: resource, accessTokenTTL: HOUR, accessTokenFormat: "jwt", jwt: { sign: { alg: "ES256" } } };
        },
        useGrantedResource: () => false,
      },
    },

    interactions: {
      url: (_ctx, interaction) => interactionPath(tenant.id, interaction.uid),
      policy: interactionPolicy(oidc, services.sessionOf),
    },
    // A consent given to a client is remembered beyond the session it was given in (consent.ts).
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      return rememberedGrant(deps, tenant, ctx);
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: true,

    cookies: { keys: [deps.secrets.mac(`oidc-cookies:${tenant.id}`)], long: cookieOptions, short: cookieOptions },
    ttl: {
      AccessToken: HOUR,
      AuthorizationCode: 60,
      ClientCredentials: 10 * 60,
      IdToken: HOUR,
      Interaction: 30 * 60,
      Grant: 365 * DAY,
      RefreshToken: 14 * DAY,
      Session: tenant.policy.session.absoluteHours * HOUR,
    },
    renderError: (ctx, out) => pages.error(ctx, out),
    // oidc-provider refuses private and loopback addresses (against SSRF) unless told otherwise.
    ...(services.privateNetwork ? { fetch: (url: string | URL | Request, init?: RequestInit) => globalThis.fetch(url, Object.assign({}, init, { dispatcher: undefined })) } : {}),
    discovery: { ui_locales_supported: tenant.locales, claims_locales_supported: undefined },
  };
}
