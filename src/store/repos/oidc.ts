import type { Kysely, Selectable } from "kysely";
import { placeholderRow, prepared } from "../prepared.ts";
import type { ClientConsentsTable, Database, OidcClientsTable, OidcModelsTable, SigningKeysTable } from "../schema.gen.ts";

export type SigningKeyRow = Selectable<SigningKeysTable>;
export type OidcClientRow = Selectable<OidcClientsTable>;
export type OidcModelRow = Selectable<OidcModelsTable>;
export type ClientConsentRow = Selectable<ClientConsentsTable>;

/** A tenant's signing keys (federation/signing-keys.ts). */
export function signingKeyRepo(db: Kysely<Database>) {
  return {
    async insert(row: SigningKeyRow): Promise<void> {
      await db.insertInto("signing_keys").values(row).execute();
    },

    /** Every key of the tenant, newest first. */
    list(tenantId: string): Promise<SigningKeyRow[]> {
      return db.selectFrom("signing_keys").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at", "desc").orderBy("kid").execute();
    },

    /** Sets when keys that still sign stop, and until when they stay published. */
    async retire(tenantId: string, kids: string[], retiresAt: number, expiresAt: number): Promise<void> {
      if (kids.length === 0) return;
      await db.updateTable("signing_keys").set({ retires_at: retiresAt, expires_at: expiresAt }).where("tenant_id", "=", tenantId).where("kid", "in", kids).execute();
    },

    async deleteExpired(now: number): Promise<number> {
      const result = await db.deleteFrom("signing_keys").where("expires_at", "<", now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

// Every token request and every use of a token runs these (store/prepared.ts).
const clientById = prepared((db, p: { tenantId: string; clientId: string }) => db.selectFrom("oidc_clients").selectAll().where("tenant_id", "=", p.tenantId).where("client_id", "=", p.clientId));
const MODEL_COLUMNS = ["tenant_id", "model", "id_hash", "payload", "grant_id", "session_uid", "account_id", "client_id", "expires_at", "consumed_at"] as const;
const upsertModel = prepared((db, p: OidcModelRow) =>
  db
    .insertInto("oidc_models")
    .values(placeholderRow(p, MODEL_COLUMNS))
    .onConflict((oc) =>
      oc.columns(["tenant_id", "model", "id_hash"]).doUpdateSet({
        payload: p.payload,
        grant_id: p.grant_id,
        session_uid: p.session_uid,
        account_id: p.account_id,
        client_id: p.client_id,
        expires_at: p.expires_at,
        consumed_at: p.consumed_at,
      }),
    ),
);
const modelById = prepared((db, p: { tenantId: string; model: string; idHash: string }) =>
  db.selectFrom("oidc_models").selectAll().where("tenant_id", "=", p.tenantId).where("model", "=", p.model).where("id_hash", "=", p.idHash),
);

/** Relying parties registered with a tenant. */
export function oidcClientRepo(db: Kysely<Database>) {
  return {
    async insert(row: OidcClientRow): Promise<void> {
      await db.insertInto("oidc_clients").values(row).execute();
    },

    async find(tenantId: string, clientId: string): Promise<OidcClientRow | undefined> {
      return (await clientById(db, { tenantId, clientId })).rows[0];
    },

    list(tenantId: string): Promise<OidcClientRow[]> {
      return db.selectFrom("oidc_clients").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").execute();
    },

    async delete(tenantId: string, clientId: string): Promise<boolean> {
      const result = await db.deleteFrom("oidc_clients").where("tenant_id", "=", tenantId).where("client_id", "=", clientId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}

/** oidc-provider's models (federation/oidc/adapter.ts), each scoped by tenant. */
export function oidcModelRepo(db: Kysely<Database>) {
  const of = (tenantId: string, model: string) => db.selectFrom("oidc_models").selectAll().where("tenant_id", "=", tenantId).where("model", "=", model);
  return {
    async upsert(row: OidcModelRow): Promise<void> {
      await upsertModel(db, row);
    },

    async find(tenantId: string, model: string, idHash: string): Promise<OidcModelRow | undefined> {
      return (await modelById(db, { tenantId, model, idHash })).rows[0];
    },

    findBySessionUid(tenantId: string, model: string, uid: string): Promise<OidcModelRow | undefined> {
      return of(tenantId, model).where("session_uid", "=", uid).executeTakeFirst();
    },

    /** Marks a model consumed, once: false if it already was (a code redeemed twice at once). */
    async consume(tenantId: string, model: string, idHash: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable("oidc_models")
        .set({ consumed_at: now })
        .where("tenant_id", "=", tenantId)
        .where("model", "=", model)
        .where("id_hash", "=", idHash)
        .where("consumed_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async destroy(tenantId: string, model: string, idHash: string): Promise<void> {
      await db.deleteFrom("oidc_models").where("tenant_id", "=", tenantId).where("model", "=", model).where("id_hash", "=", idHash).execute();
    },

    /** Every model of a grant (its codes and tokens), whatever their kind. */
    async revokeByGrantId(tenantId: string, grantId: string): Promise<void> {
      await db.deleteFrom("oidc_models").where("tenant_id", "=", tenantId).where("grant_id", "=", grantId).execute();
    },

    /** The newest live model of a kind for an account and a client (a remembered consent). */
    latestFor(tenantId: string, model: string, accountId: string, clientId: string, now: number): Promise<OidcModelRow | undefined> {
      return of(tenantId, model)
        .where("account_id", "=", accountId)
        .where("client_id", "=", clientId)
        .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
        .orderBy("expires_at", "desc")
        .executeTakeFirst();
    },

    /** An account's live models of a kind (its sessions, to sign them out). */
    ofAccount(tenantId: string, model: string, accountId: string, now: number): Promise<OidcModelRow[]> {
      return of(tenantId, model)
        .where("account_id", "=", accountId)
        .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
        .execute();
    },

    /** Everything issued to a client for one account (access withdrawn from the panel). */
    async deleteOfAccountAndClient(tenantId: string, accountId: string, clientId: string): Promise<void> {
      await db.deleteFrom("oidc_models").where("tenant_id", "=", tenantId).where("account_id", "=", accountId).where("client_id", "=", clientId).execute();
    },

    /** Everything issued to a client that is being removed. */
    async deleteOfClient(tenantId: string, clientId: string): Promise<void> {
      await db.deleteFrom("oidc_models").where("tenant_id", "=", tenantId).where("client_id", "=", clientId).execute();
    },

    async deleteExpired(now: number): Promise<number> {
      const result = await db.deleteFrom("oidc_models").where("expires_at", "<", now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

/** Consents given to clients (federation/oidc/consent.ts). */
export function clientConsentRepo(db: Kysely<Database>) {
  return {
    async upsert(row: ClientConsentRow): Promise<void> {
      await db
        .insertInto("client_consents")
        .values(row)
        .onConflict((oc) => oc.columns(["tenant_id", "account_id", "client_id"]).doUpdateSet({ scope: row.scope, claims: row.claims, updated_at: row.updated_at }))
        .execute();
    },

    find(tenantId: string, accountId: string, clientId: string): Promise<ClientConsentRow | undefined> {
      return db
        .selectFrom("client_consents")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("account_id", "=", accountId)
        .where("client_id", "=", clientId)
        .executeTakeFirst();
    },

    ofAccount(tenantId: string, accountId: string): Promise<ClientConsentRow[]> {
      return db.selectFrom("client_consents").selectAll().where("tenant_id", "=", tenantId).where("account_id", "=", accountId).orderBy("updated_at", "desc").execute();
    },

    async deleteOfClient(tenantId: string, clientId: string): Promise<void> {
      await db.deleteFrom("client_consents").where("tenant_id", "=", tenantId).where("client_id", "=", clientId).execute();
    },

    async delete(tenantId: string, accountId: string, clientId: string): Promise<boolean> {
      const result = await db
        .deleteFrom("client_consents")
        .where("tenant_id", "=", tenantId)
        .where("account_id", "=", accountId)
        .where("client_id", "=", clientId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
