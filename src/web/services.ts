import type { FastifyRequest } from "fastify";
import type { AttemptStore } from "../identity/brute-force.ts";
import type { Actor, IdentityDeps } from "../identity/deps.ts";
import { type RelyingParty, relyingPartyOf } from "../identity/passkeys.ts";
import type { PkiDeps, PkiRuntime } from "../pki/deps.ts";
import type { Clock } from "../shared/clock.ts";
import type { Secrets } from "../shared/crypto/secrets.ts";
import type { Store } from "../store/db.ts";
import type { Tenant } from "../tenants/tenant.ts";

/** The public base URL. Known once the server listens (port 0 picks one), so held by reference. */
export interface PublicUrl {
  current: string;
}

/** What routes are given: the store and the services around it. */
export interface WebServices {
  store: Store;
  clock: Clock;
  secrets: Secrets;
  attempts: AttemptStore;
  devMode: boolean;
  publicUrl: PublicUrl;
  /** The process's keystores and the tenants' authorities as last read. */
  pki: PkiRuntime;
  /** Where the mutual-TLS endpoint (CNS identification) answers, when the server has one. */
  mtlsUrl?: string | undefined;
}

export function identityDeps(services: WebServices): IdentityDeps {
  return { repos: services.store.repos, clock: services.clock, secrets: services.secrets };
}

export function pkiDeps(services: WebServices): PkiDeps {
  return { ...identityDeps(services), pki: services.pki };
}

/** Runs `work` in one transaction: everything it writes lands together or not at all. */
export function inTransaction<T>(services: WebServices, work: (deps: IdentityDeps) => Promise<T>): Promise<T> {
  return services.store.transaction((repos) => work({ repos, clock: services.clock, secrets: services.secrets }));
}

/** The request as the audit log records it. */
export function actorOf(request: FastifyRequest): Actor {
  return {
    actor: request.session ? `account:${request.session.accountId}` : "anonymous",
    ip: request.ip,
    requestId: request.id,
  };
}

/** This tenant as a WebAuthn relying party: the base URL's host and origin. */
export function relyingParty(services: WebServices, tenant: Tenant): RelyingParty {
  return relyingPartyOf(tenant, tenantUrl(services, tenant));
}

/** The tenant's public base: `<base-url>/t/<tenant>`. */
export function tenantUrl(services: WebServices, tenant: Tenant): string {
  return `${services.publicUrl.current}/t/${tenant.id}`;
}
