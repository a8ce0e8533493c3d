import { createHash } from "node:crypto";
import type { Adapter, AdapterPayload } from "oidc-provider";
import type { IdentityDeps } from "../../identity/deps.ts";
import type { OidcErrors } from "./internals.ts";

/** How a client row becomes the metadata oidc-provider validates (clients.ts writes them). */
export type ClientLoader = (clientId: string) => Promise<AdapterPayload | undefined>;

/**
 * oidc-provider's storage, on our store: one class per tenant, as oidc-provider asks for one
 * adapter per model name. Every node sees the same rows, so an authorization started on one node
 * finishes on another.
 *
 * - Ids are stored as SHA-256: an opaque token's id is the token, and a copy of the database must
 *   not hand out working tokens. Payloads are sealed (AES-256-GCM, bound to the row).
 * - `consume` is atomic: of two requests redeeming one code or refresh token at once, the second
 *   is refused and the grant revoked (RFC 6749 §4.1.2, RFC 9700 §4.14.2), which the check-then-act
 *   of oidc-provider alone cannot promise across nodes.
 * - Expired rows are never returned; a job deletes them (jobs/maintenance.ts).
 */
export function storeAdapter(deps: IdentityDeps, tenantId: string, errors: OidcErrors, loadClient: ClientLoader): new (name: string) => Adapter {
  const hash = (model: string, id: string) => createHash("sha256").update(`${model}\0${id}`).digest("base64url");
  const context = (model: string, idHash: string) => `oidc:${tenantId}:${model}:${idHash}`;

  return class StoreAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.model === "Client") throw new TypeError("clients are registered with `tessera client`, not through oidc-provider");
      const idHash = hash(this.model, id);
      await deps.repos.oidcModels.upsert({
        tenant_id: tenantId,
        model: this.model,
        id_hash: idHash,
        payload: deps.secrets.seal(JSON.stringify(payload), context(this.model, idHash)),
        grant_id: payload.grantId ?? null,
        session_uid: this.model === "Session" ? (payload.uid ?? null) : null,
        account_id: payload.accountId ?? null,
        client_id: payload.clientId ?? null,
        expires_at: expiresIn ? deps.clock.now() + expiresIn * 1000 : null,
        consumed_at: null,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === "Client") return loadClient(id);
      const idHash = hash(this.model, id);
      return this.open(await deps.repos.oidcModels.find(tenantId, this.model, idHash));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.open(await deps.repos.oidcModels.findBySessionUid(tenantId, this.model, uid));
    }

    findByUserCode(): Promise<AdapterPayload | undefined> {
      // The device flow is not enabled.
      return Promise.resolve(undefined);
    }

    async consume(id: string): Promise<void> {
      const idHash = hash(this.model, id);
      if (await deps.repos.oidcModels.consume(tenantId, this.model, idHash, deps.clock.now())) return;
      const row = await deps.repos.oidcModels.find(tenantId, this.model, idHash);
      if (row?.grant_id) await deps.repos.oidcModels.revokeByGrantId(tenantId, row.grant_id);
      throw new errors.InvalidGrant(`${this.model === "AuthorizationCode" ? "authorization code" : "grant"} already used`);
    }

    async destroy(id: string): Promise<void> {
      await deps.repos.oidcModels.destroy(tenantId, this.model, hash(this.model, id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await deps.repos.oidcModels.revokeByGrantId(tenantId, grantId);
    }

    private open(row: { id_hash: string; payload: string; expires_at: number | null; consumed_at: number | null } | undefined): AdapterPayload | undefined {
      if (!row || (row.expires_at !== null && row.expires_at <= deps.clock.now())) return undefined;
      const payload = JSON.parse(deps.secrets.open(row.payload, context(this.model, row.id_hash))) as AdapterPayload;
      return row.consumed_at === null ? payload : { ...payload, consumed: row.consumed_at };
    }
  };
}
