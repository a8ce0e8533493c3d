import type { Kysely, Selectable } from "kysely";
import { placeholderRow, prepared } from "../prepared.ts";
import type { Database, SamlConsentsTable, SamlCredentialsTable, SamlRequestsTable, SamlServiceProvidersTable, SamlSessionsTable } from "../schema.gen.ts";

export type SamlCredentialRow = Selectable<SamlCredentialsTable>;
export type SamlServiceProviderRow = Selectable<SamlServiceProvidersTable>;
export type SamlRequestRow = Selectable<SamlRequestsTable>;
export type SamlSessionRow = Selectable<SamlSessionsTable>;
export type SamlConsentRow = Selectable<SamlConsentsTable>;

// Every AuthnRequest answered runs these (store/prepared.ts).
const REQUEST_COLUMNS = ["ticket", "tenant_id", "sp_entity_id", "request_id", "payload", "created_at", "expires_at", "answered_at"] as const;
const SESSION_COLUMNS = ["session_index", "tenant_id", "session_id", "account_id", "sp_entity_id", "name_id", "level", "created_at", "expires_at"] as const;
const spById = prepared((db, p: { tenantId: string; entityId: string }) => db.selectFrom("saml_service_providers").selectAll().where("tenant_id", "=", p.tenantId).where("entity_id", "=", p.entityId));
const insertRequest = prepared((db, p: SamlRequestRow) =>
  db
    .insertInto("saml_requests")
    .values(placeholderRow(p, REQUEST_COLUMNS))
    .onConflict((oc) => oc.columns(["tenant_id", "sp_entity_id", "request_id"]).doNothing()),
);
const answerRequest = prepared((db, p: { tenantId: string; ticket: string; now: number }) =>
  db.updateTable("saml_requests").set({ answered_at: p.now }).where("ticket", "=", p.ticket).where("tenant_id", "=", p.tenantId).where("answered_at", "is", null),
);
const insertSession = prepared((db, p: SamlSessionRow) => db.insertInto("saml_sessions").values(placeholderRow(p, SESSION_COLUMNS)));
const consentOf = prepared((db, p: { tenantId: string; accountId: string; entityId: string }) =>
  db.selectFrom("saml_consents").selectAll().where("tenant_id", "=", p.tenantId).where("account_id", "=", p.accountId).where("sp_entity_id", "=", p.entityId),
);

/** Everything the SAML identity provider keeps (federation/saml), each query scoped by tenant. */
export function samlRepo(db: Kysely<Database>) {
  return {
    credentials(tenantId: string): Promise<SamlCredentialRow[]> {
      return db.selectFrom("saml_credentials").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at", "desc").execute();
    },

    async insertCredential(row: SamlCredentialRow): Promise<void> {
      await db.insertInto("saml_credentials").values(row).execute();
    },

    async serviceProvider(tenantId: string, entityId: string): Promise<SamlServiceProviderRow | undefined> {
      return (await spById(db, { tenantId, entityId })).rows[0];
    },

    serviceProviders(tenantId: string): Promise<SamlServiceProviderRow[]> {
      return db.selectFrom("saml_service_providers").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").execute();
    },

    /** Registers a service provider, or replaces its metadata (new certificates, endpoints). */
    async putServiceProvider(row: SamlServiceProviderRow): Promise<void> {
      await db
        .insertInto("saml_service_providers")
        .values(row)
        .onConflict((oc) => oc.columns(["tenant_id", "entity_id"]).doUpdateSet({ metadata: row.metadata, description: row.description, updated_at: row.updated_at }))
        .execute();
    },

    async deleteServiceProvider(tenantId: string, entityId: string): Promise<boolean> {
      const result = await db.deleteFrom("saml_service_providers").where("tenant_id", "=", tenantId).where("entity_id", "=", entityId).executeTakeFirst();
      await db.deleteFrom("saml_consents").where("tenant_id", "=", tenantId).where("sp_entity_id", "=", entityId).execute();
      await db.deleteFrom("saml_sessions").where("tenant_id", "=", tenantId).where("sp_entity_id", "=", entityId).execute();
      return Number(result.numDeletedRows) === 1;
    },

    /** Records a request; false when this issuer already sent this request id (a replay). */
    async insertRequest(row: SamlRequestRow): Promise<boolean> {
      return Number((await insertRequest(db, row)).numAffectedRows ?? 0n) === 1;
    },

    request(tenantId: string, ticket: string): Promise<SamlRequestRow | undefined> {
      return db.selectFrom("saml_requests").selectAll().where("ticket", "=", ticket).where("tenant_id", "=", tenantId).executeTakeFirst();
    },

    /** Marks a request answered; false if it already was (a second answer is never sent). */
    async answerRequest(tenantId: string, ticket: string, now: number): Promise<boolean> {
      return Number((await answerRequest(db, { tenantId, ticket, now })).numAffectedRows ?? 0n) === 1;
    },

    async insertSession(row: SamlSessionRow): Promise<void> {
      await insertSession(db, row);
    },

    session(tenantId: string, sessionIndex: string): Promise<SamlSessionRow | undefined> {
      return db.selectFrom("saml_sessions").selectAll().where("session_index", "=", sessionIndex).where("tenant_id", "=", tenantId).executeTakeFirst();
    },

    sessionsOf(tenantId: string, sessionId: string): Promise<SamlSessionRow[]> {
      return db.selectFrom("saml_sessions").selectAll().where("tenant_id", "=", tenantId).where("session_id", "=", sessionId).execute();
    },

    async deleteSessionsOf(tenantId: string, sessionId: string): Promise<number> {
      const result = await db.deleteFrom("saml_sessions").where("tenant_id", "=", tenantId).where("session_id", "=", sessionId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async consent(tenantId: string, accountId: string, entityId: string): Promise<SamlConsentRow | undefined> {
      return (await consentOf(db, { tenantId, accountId, entityId })).rows[0];
    },

    consentsOf(tenantId: string, accountId: string): Promise<SamlConsentRow[]> {
      return db.selectFrom("saml_consents").selectAll().where("tenant_id", "=", tenantId).where("account_id", "=", accountId).orderBy("given_at").execute();
    },

    async putConsent(row: SamlConsentRow): Promise<void> {
      await db
        .insertInto("saml_consents")
        .values(row)
        .onConflict((oc) => oc.columns(["tenant_id", "account_id", "sp_entity_id"]).doUpdateSet({ attributes: row.attributes, given_at: row.given_at }))
        .execute();
    },

    async deleteConsent(tenantId: string, accountId: string, entityId: string): Promise<boolean> {
      const result = await db
        .deleteFrom("saml_consents")
        .where("tenant_id", "=", tenantId)
        .where("account_id", "=", accountId)
        .where("sp_entity_id", "=", entityId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    /** Requests past their lifetime (long enough to refuse any replay still within the clock skew) and ended sessions. */
    async deleteExpired(now: number): Promise<void> {
      await db.deleteFrom("saml_requests").where("expires_at", "<", now).execute();
      await db.deleteFrom("saml_sessions").where("expires_at", "<", now).execute();
    },
  };
}
