import type { Kysely } from "kysely";

/**
 * SAML 2.0 (SPID profile): each tenant's signing credential, its registered service providers,
 * the authentication requests it has seen (to answer them on any node, and to refuse replays),
 * the sessions it opened at service providers (for single logout) and the attributes each holder
 * agreed to release to each of them. Frozen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // The key that signs assertions and metadata (RSA-2048), sealed under the master key, with the
  // self-signed certificate that metadata publishes.
  await db.schema
    .createTable("saml_credentials")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("private_key", "text", (c) => c.notNull())
    .addColumn("certificate", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("not_after", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("saml_credentials_pk", ["tenant_id", "id"])
    .execute();

  // Service providers, registered from their metadata: the document as given, and what was read
  // from it (endpoints, certificates, attribute sets).
  await db.schema
    .createTable("saml_service_providers")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("entity_id", "text", (c) => c.notNull())
    .addColumn("metadata", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("saml_service_providers_pk", ["tenant_id", "entity_id"])
    .execute();

  // Every verified AuthnRequest, by a random ticket the browser carries through sign-in. The
  // unique (issuer, request id) pair is what refuses a replay, on whichever node it arrives.
  await db.schema
    .createTable("saml_requests")
    .addColumn("ticket", "text", (c) => c.primaryKey().notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("sp_entity_id", "text", (c) => c.notNull())
    .addColumn("request_id", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("answered_at", "bigint")
    .addUniqueConstraint("saml_requests_request", ["tenant_id", "sp_entity_id", "request_id"])
    .execute();
  await db.schema.createIndex("saml_requests_expiry").on("saml_requests").columns(["expires_at"]).execute();

  // An assertion issued to a service provider: its transient NameID and SessionIndex, tied to the
  // Tessera session it was issued from, so that a LogoutRequest can be matched and propagated.
  await db.schema
    .createTable("saml_sessions")
    .addColumn("session_index", "text", (c) => c.primaryKey().notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("session_id", "text", (c) => c.notNull())
    .addColumn("account_id", "text", (c) => c.notNull())
    .addColumn("sp_entity_id", "text", (c) => c.notNull())
    .addColumn("name_id", "text", (c) => c.notNull())
    .addColumn("level", "integer", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("saml_sessions_session").on("saml_sessions").columns(["tenant_id", "session_id"]).execute();
  await db.schema.createIndex("saml_sessions_expiry").on("saml_sessions").columns(["expires_at"]).execute();

  // The attributes a holder agreed to release to a service provider (asked before the first release).
  await db.schema
    .createTable("saml_consents")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("sp_entity_id", "text", (c) => c.notNull())
    .addColumn("attributes", "text", (c) => c.notNull())
    .addColumn("given_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("saml_consents_pk", ["tenant_id", "account_id", "sp_entity_id"])
    .execute();
}
