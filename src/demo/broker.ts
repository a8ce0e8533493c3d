import { findUpstream, putUpstream } from "../federation/broker/upstreams.ts";
import { serviceProviderMetadata, spEndpoints } from "../federation/broker/saml/sp-metadata.ts";
import { createClient, deleteClient, findClient } from "../federation/oidc/clients.ts";
import { standaloneProviders } from "../federation/oidc/providers.ts";
import { samlCredentials } from "../federation/saml/credential.ts";
import { findServiceProvider, registerServiceProvider } from "../federation/saml/registry.ts";
import type { IdentityDeps } from "../identity/deps.ts";
import { findTenant } from "../tenants/service.ts";

const BY = { actor: "system:demo" };

/**
 * `start --demo` (seed 001): the university signs its users in through the national tenant, over
 * real HTTP, both ways the broker knows: national as a SAML identity provider of the SPID profile
 * ("Entra con SPID": the university's service provider registered there from its metadata, and
 * national's metadata fetched by the university from its URL) and as an OpenID Connect provider
 * ("Entra con CIE": a client of national, found by discovery). Run once the server listens (the
 * fetches are to itself), on every start: the public URL may have changed, and what is in place
 * already is left as it is.
 */
export async function wireDemoBroker(deps: IdentityDeps, publicUrl: string): Promise<void> {
  const national = await findTenant(deps.repos, "national");
  const university = await findTenant(deps.repos, "university");
  if (!national || !university) return;
  const nationalUrl = `${publicUrl}/t/national`;
  const universityUrl = `${publicUrl}/t/university`;

  // The university's service provider, registered with national from its own metadata.
  const sp = spEndpoints(universityUrl, publicUrl);
  const credential = await samlCredentials(deps)(university, new URL(publicUrl).hostname);
  const registered = await findServiceProvider(deps, national, sp.entityId);
  if (!registered || !registered.assertionConsumerServices.some((a) => a.location === sp.acsUrl) || !registered.certificates.some((c) => c.includes(credential.certificate.slice(0, 64)))) {
    await registerServiceProvider(deps, national, await serviceProviderMetadata(university, sp, credential), BY);
  }
  const metadataUrl = `${nationalUrl}/saml/metadata`;
  const spid = await findUpstream(deps, university, "tessera-spid");
  if (spid?.protocol !== "saml" || spid.metadataUrl !== metadataUrl) {
    await againWhileUnreachable(() => putUpstream(deps, university, { id: "tessera-spid", protocol: "saml", scheme: "spid", displayName: "Tessera ID", metadataUrl }, BY));
  }

  // The university as a relying party of national: a client whose secret only the upstream keeps.
  const redirectUri = `${universityUrl}/broker/oidc/callback`;
  const cie = await findUpstream(deps, university, "tessera-cie");
  const client = cie?.protocol === "oidc" ? await findClient(deps, national, cie.clientId).catch(() => undefined) : undefined;
  if (cie?.protocol === "oidc" && cie.issuer === nationalUrl && client?.redirect_uris.includes(redirectUri)) return;
  if (client) await deleteClient(deps, national, client.client_id, BY);
  const providers = standaloneProviders(deps, publicUrl, { error: () => undefined, warn: () => undefined });
  const made = await createClient(
    deps,
    national,
    { name: university.displayName, redirectUris: [redirectUri], scopes: ["openid", "profile", "email"], levels: [1, 2] },
    (metadata) => providers.validateClient(national, metadata),
    BY,
  );
  await againWhileUnreachable(() =>
    putUpstream(deps, university, { id: "tessera-cie", protocol: "oidc", scheme: "cie", displayName: "Tessera ID (OpenID Connect)", issuer: nationalUrl, clientId: made.client.client_id, clientSecret: made.secret! }, BY),
  );
}

/**
 * The public URL may lead through a load balancer that does not send requests to this node yet
 * (its health checks take a moment to see a node that has just started, and this may be the
 * only one): the fetches to itself are tried again, for up to a minute.
 */
async function againWhileUnreachable<T>(work: () => Promise<T>): Promise<T> {
  const end = Date.now() + 60_000;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
