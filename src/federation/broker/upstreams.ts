import { z } from "zod";
import { recordAuditBy } from "../../audit/service.ts";
import type { Actor, IdentityDeps } from "../../identity/deps.ts";
import { UPSTREAM_SCHEMES, type UpstreamScheme } from "../../identity/upstream-identity.ts";
import { TesseraError, ValidationError } from "../../shared/errors.ts";
import type { UpstreamRow } from "../../store/repos/broker.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { MetadataRejected } from "../saml/service-provider.ts";
import { MAX_METADATA_BYTES } from "../saml/xml.ts";
import { type IdpDescription, parseIdpMetadata } from "./saml/idp-metadata.ts";

/**
 * The identity providers a broker tenant signs its users in through (seed 001: "Entra con SPID",
 * "Entra con CIE"): SAML identity providers of the SPID profile, read from their metadata, and
 * OpenID Connect providers (the CIE and SPID OpenID Connect profiles), found by discovery. Each
 * is labelled with the scheme its button belongs to. Configured with `tessera upstream`.
 */

export const UpstreamId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "must be 1–40 lower-case letters, digits or hyphens");

interface UpstreamBase {
  id: string;
  scheme: UpstreamScheme;
  displayName: string;
}
export interface SamlUpstream extends UpstreamBase {
  protocol: "saml";
  idp: IdpDescription;
  metadataUrl: string | undefined;
  metadataFetchedAt: number | null;
}
export interface OidcUpstream extends UpstreamBase {
  protocol: "oidc";
  issuer: string;
  clientId: string;
  clientSecret: string;
}
export type Upstream = SamlUpstream | OidcUpstream;

const SamlConfig = z.object({ metadataUrl: z.string().url().optional() }).strict();
const OidcConfig = z.object({ issuer: z.string().url(), clientId: z.string().min(1), clientSecret: z.string().min(1) }).strict();
const secretContext = (tenantId: string, id: string) => `upstream-secret:${tenantId}:${id}`;

/** How long fetched metadata is used before it is fetched again (when it came from a URL). */
export const METADATA_REFRESH_MS = 24 * 3_600_000;
const FETCH_TIMEOUT_MS = 10_000;

/** GETs a document from an upstream (metadata, discovery), within a time and size limit. */
export async function fetchDocument(url: string, accept: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept }, redirect: "error", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (error) {
    throw new TesseraError("upstream.unreachable", `${url} could not be fetched: ${error instanceof Error ? error.message : String(error)}`, { status: 502 });
  }
  if (!res.ok) throw new TesseraError("upstream.unreachable", `${url} answered ${res.status}`, { status: 502 });
  const text = await res.text();
  if (Buffer.byteLength(text) > MAX_METADATA_BYTES) throw new TesseraError("upstream.unreachable", `${url} is larger than ${MAX_METADATA_BYTES} bytes`, { status: 502 });
  return text;
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError("upstream.invalid", [{ field, code: "invalid", message }]);
}

function checkedIdp(metadata: string): IdpDescription {
  try {
    return parseIdpMetadata(metadata);
  } catch (error) {
    if (error instanceof MetadataRejected) throw invalid("metadata", error.message);
    throw error;
  }
}

const parsedIdps = new Map<string, IdpDescription>();
/** Metadata is parsed once per text: every sign-in reads its upstream's. */
function idpOf(metadata: string): IdpDescription {
  let idp = parsedIdps.get(metadata);
  if (!idp) {
    idp = Object.freeze(parseIdpMetadata(metadata));
    if (parsedIdps.size >= 100) parsedIdps.clear();
    parsedIdps.set(metadata, idp);
  }
  return idp;
}

function upstreamOf(deps: IdentityDeps, row: UpstreamRow): Upstream {
  const base = { id: row.id, scheme: row.scheme as UpstreamScheme, displayName: row.display_name };
  if (row.protocol === "saml") {
    const config = SamlConfig.parse(JSON.parse(row.config));
    return { ...base, protocol: "saml", idp: idpOf(row.metadata!), metadataUrl: config.metadataUrl, metadataFetchedAt: row.metadata_fetched_at };
  }
  const config = OidcConfig.parse(JSON.parse(row.config));
  return { ...base, protocol: "oidc", issuer: config.issuer, clientId: config.clientId, clientSecret: deps.secrets.open(config.clientSecret, secretContext(row.tenant_id, row.id)) };
}

export type NewUpstream = { id: string; scheme: UpstreamScheme; displayName: string } & (
  | { protocol: "saml"; metadata?: string; metadataUrl?: string }
  | { protocol: "oidc"; issuer: string; clientId: string; clientSecret: string }
);

/**
 * Adds an upstream, or replaces one with the same id. SAML: from metadata given, or fetched now
 * from `metadataUrl` (and again every day). OpenID Connect: the issuer must answer discovery now.
 */
export async function putUpstream(deps: IdentityDeps, tenant: Tenant, input: NewUpstream, by: Actor): Promise<Upstream> {
  if (!UpstreamId.safeParse(input.id).success) throw invalid("id", "must be 1–40 lower-case letters, digits or hyphens");
  if (!(UPSTREAM_SCHEMES as readonly string[]).includes(input.scheme)) throw invalid("scheme", `must be one of ${UPSTREAM_SCHEMES.join(", ")}`);
  if (!input.displayName.trim()) throw invalid("displayName", "must not be empty");
  if (tenant.policy.identifier !== "codice_persona") throw invalid("tenant", "only a tenant whose accounts have a codice persona brokers to SPID/CIE");
  const now = deps.clock.now();
  let config: string;
  let metadata: string | null = null;
  if (input.protocol === "saml") {
    if (!input.metadata && !input.metadataUrl) throw invalid("metadata", "give the metadata or its URL");
    metadata = input.metadata ?? (await fetchDocument(input.metadataUrl!, "application/samlmetadata+xml, application/xml"));
    checkedIdp(metadata);
    config = JSON.stringify(SamlConfig.parse(input.metadataUrl ? { metadataUrl: input.metadataUrl } : {}));
  } else {
    const discovery = `${input.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
    const found = JSON.parse(await fetchDocument(discovery, "application/json")) as { issuer?: unknown };
    if (found.issuer !== input.issuer) throw invalid("issuer", `the discovery document at ${discovery} names issuer ${String(found.issuer)}`);
    config = JSON.stringify({ issuer: input.issuer, clientId: input.clientId, clientSecret: deps.secrets.seal(input.clientSecret, secretContext(tenant.id, input.id)) });
  }
  const row: UpstreamRow = {
    tenant_id: tenant.id,
    id: input.id,
    protocol: input.protocol,
    scheme: input.scheme,
    display_name: input.displayName.trim(),
    config,
    metadata,
    metadata_fetched_at: metadata ? now : null,
    created_at: now,
    updated_at: now,
  };
  await deps.repos.atomically(async (repos) => {
    const before = await repos.broker.upstream(tenant.id, input.id);
    await repos.broker.putUpstream({ ...row, created_at: before?.created_at ?? now });
    await recordAuditBy(repos, deps.clock, by, {
      tenantId: tenant.id,
      type: before ? "broker.upstream_updated" : "broker.upstream_added",
      data: { id: input.id, protocol: input.protocol, scheme: input.scheme, ...(input.protocol === "oidc" ? { issuer: input.issuer } : { entityId: checkedIdp(metadata!).entityId }) },
    });
  });
  return upstreamOf(deps, row);
}

export async function listUpstreams(deps: IdentityDeps, tenant: Tenant): Promise<Upstream[]> {
  return (await deps.repos.broker.upstreams(tenant.id)).map((row) => upstreamOf(deps, row));
}

/** The upstream, its SAML metadata fetched again first when it came from a URL and is a day old. */
export async function findUpstream(deps: IdentityDeps, tenant: Tenant, id: string): Promise<Upstream | undefined> {
  const row = await deps.repos.broker.upstream(tenant.id, id);
  if (!row) return undefined;
  const upstream = upstreamOf(deps, row);
  if (upstream.protocol === "saml" && upstream.metadataUrl && deps.clock.now() - (upstream.metadataFetchedAt ?? 0) > METADATA_REFRESH_MS) {
    try {
      const metadata = await fetchDocument(upstream.metadataUrl, "application/samlmetadata+xml, application/xml");
      checkedIdp(metadata);
      await deps.repos.broker.setUpstreamMetadata(tenant.id, id, metadata, deps.clock.now());
      return { ...upstream, idp: idpOf(metadata), metadataFetchedAt: deps.clock.now() };
    } catch {
      // The metadata stays as last fetched: an upstream briefly unreachable must not stop sign-ins.
      return upstream;
    }
  }
  return upstream;
}

export async function removeUpstream(deps: IdentityDeps, tenant: Tenant, id: string, by: Actor): Promise<void> {
  await deps.repos.atomically(async (repos) => {
    if (!(await repos.broker.deleteUpstream(tenant.id, id))) throw new TesseraError("upstream.not_found", `no upstream ${id}`, { status: 404 });
    await recordAuditBy(repos, deps.clock, by, { tenantId: tenant.id, type: "broker.upstream_removed", data: { id } });
  });
}
