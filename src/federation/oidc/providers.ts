import type { IncomingMessage, ServerResponse } from "node:http";
import type { Client, ClientMetadata, Provider } from "oidc-provider";
import { recordAuditBy } from "../../audit/service.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { ensureSigningKeys, KEYS_REFRESH_MS, signingKeySet, signingKeysVersion } from "../signing-keys.ts";
import { type OidcServices, providerConfiguration } from "./configuration.ts";
import { loadOidcProvider } from "./internals.ts";

interface Built {
  provider: Promise<Provider>;
  /** What it was built from: the tenant's version, the base URL, the keys and their states. */
  version: string;
  checkedAt: number;
}

type LoggingOutClient = Client & { backchannelLogout(sub: string, sid: string | undefined): Promise<void> };

/**
 * One oidc-provider instance per tenant, built on first use and rebuilt when what it was built
 * from changes: the tenant, the base URL, or its signing keys (rotated, activated or retired),
 * which each node rereads at most every KEYS_REFRESH_MS. Nothing else lives in it between
 * requests: sessions, codes and tokens are in the store (adapter.ts).
 */
export function oidcProviders(services: OidcServices) {
  const { deps } = services;
  const built = new Map<string, Built>();
  const callbacks = new WeakMap<Provider, (req: IncomingMessage, res: ServerResponse) => Promise<void>>();

  const versionOf = async (tenant: Tenant) => `${tenant.updatedAt}|${services.publicUrl.current}|${await signingKeysVersion(deps, tenant)}`;

  async function build(tenant: Tenant): Promise<Provider> {
    const oidc = await loadOidcProvider();
    const { keys } = await signingKeySet(deps, tenant);
    const provider = new oidc.Provider(`${services.publicUrl.current}/t/${tenant.id}`, providerConfiguration(oidc, tenant, services, keys));
    // The web layer hands requests over with the public origin in X-Forwarded-* (routes/oidc.ts).
    provider.proxy = true;
    provider.on("end_session.success", (ctx) => {
      services.endSession(ctx.req).catch((err: unknown) => services.log.error({ err }, "ending the Tessera session after an OIDC logout failed"));
    });
    // A sign-in to a relying party: the access history shows which service it was for.
    provider.on("authorization.success", (ctx) => {
      const accountId = ctx.oidc.session?.accountId;
      if (!accountId) return;
      recordAuditBy(deps.repos, deps.clock, { actor: `account:${accountId}`, ip: ctx.ip }, {
        tenantId: tenant.id,
        type: "oidc.authorized",
        subject: accountId,
        data: { client: ctx.oidc.client?.clientId, clientName: ctx.oidc.client?.clientName, acr: ctx.oidc.acr, amr: ctx.oidc.amr, scope: ctx.oidc.params?.scope },
      }).catch((err: unknown) => services.log.error({ err }, "recording an OIDC authorization failed"));
    });
    provider.on("server_error", (_ctx, err) => services.log.error({ err }, "oidc-provider failed"));
    provider.on("backchannel.error", (_ctx, err, client) => services.log.warn({ err: (err).message, client: client.clientId }, "back-channel logout failed"));
    return provider;
  }

  async function forTenant(tenant: Tenant): Promise<Provider> {
    const now = deps.clock.now();
    const entry = built.get(tenant.id);
    if (entry && now - entry.checkedAt < KEYS_REFRESH_MS) return entry.provider;
    if (!entry) await ensureSigningKeys(deps, tenant);
    const version = await versionOf(tenant);
    if (entry && entry.version === version) {
      entry.checkedAt = now;
      return entry.provider;
    }
    const provider = build(tenant);
    built.set(tenant.id, { provider, version, checkedAt: now });
    // A failed build is not kept: the next request tries again.
    provider.catch(() => built.delete(tenant.id));
    return provider;
  }

  return {
    forTenant,

    /** The tenant's provider as a Node.js request handler (oidc-provider is a Koa application). */
    async handlerFor(tenant: Tenant) {
      const provider = await forTenant(tenant);
      let callback = callbacks.get(provider);
      if (!callback) callbacks.set(provider, (callback = provider.callback()));
      return callback;
    },

    /** oidc-provider's own check of client metadata, so that a stored client is one it loads. */
    async validateClient(tenant: Tenant, metadata: ClientMetadata): Promise<void> {
      const provider = await forTenant(tenant);
      await provider.Client.validate(metadata);
    },

    /**
     * Ends the provider's session of this browser, as a logout from Tessera itself (not from a
     * relying party) does: every client that was told of it gets a back-channel logout, grants not
     * meant to outlive the session are revoked, and the session goes. The caller clears the cookie.
     */
    async endBrowserSession(tenant: Tenant, req: IncomingMessage, res: ServerResponse): Promise<void> {
      const provider = await forTenant(tenant);
      const session = await provider.Session.get(provider.createContext(req, res));
      if (!session.accountId) return;
      for (const clientId of Object.keys(session.authorizations ?? {})) {
        const client = (await provider.Client.find(clientId)) as LoggingOutClient | undefined;
        if (client?.backchannelLogoutUri) {
          await client.backchannelLogout(session.accountId, session.sidFor(clientId)).catch((err: unknown) => {
            services.log.warn({ err: (err as Error).message, client: clientId }, "back-channel logout failed");
          });
        }
        const grantId = session.grantIdFor(clientId);
        if (grantId && !session.authorizationFor(clientId).persistsLogout) {
          await deps.repos.oidcModels.revokeByGrantId(tenant.id, grantId);
          await (await provider.Grant.find(grantId))?.destroy();
        }
      }
      await session.destroy();
    },

    /** The provider's cookies, to clear along with the Tessera session's. */
    cookieNames: ["_session", "_session.sig"],
  };
}

export type OidcProviders = ReturnType<typeof oidcProviders>;

/**
 * Providers for tools that only check client metadata or keys (the command line): no pages, no
 * browser sessions.
 */
export function standaloneProviders(deps: OidcServices["deps"], publicUrl: string, log: OidcServices["log"]): OidcProviders {
  const none = () => {
    throw new TypeError("no pages outside the server");
  };
  return oidcProviders({
    deps,
    publicUrl: { current: publicUrl },
    pages: { error: none, logoutConfirm: none, loggedOut: none },
    sessionOf: () => undefined,
    endSession: () => Promise.resolve(),
    log,
  });
}
