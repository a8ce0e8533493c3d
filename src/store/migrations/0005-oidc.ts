import type { Kysely } from "kysely";

/**
 * OpenID Connect: the tenants' signing keys, registered clients, and everything oidc-provider
 * keeps between requests (sessions, interactions, codes, tokens, grants), so that an
 * authorization started on one node finishes on another. Frozen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Each tenant signs with its own keys; the private half is sealed under the master key. A key is
  // published from `created_at`, signs from `activates_at` until `retires_at`, and is published
  // until `expires_at` (so that what it signed can still be checked).
  await db.schema
    .createTable("signing_keys")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("kid", "text", (c) => c.notNull())
    .addColumn("alg", "text", (c) => c.notNull())
    .addColumn("public_jwk", "text", (c) => c.notNull())
    .addColumn("private_jwk", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("activates_at", "bigint", (c) => c.notNull())
    .addColumn("retires_at", "bigint")
    .addColumn("expires_at", "bigint")
    .addPrimaryKeyConstraint("signing_keys_pk", ["tenant_id", "kid"])
    .execute();

  // Relying parties: OIDC client metadata, with the secret (if any) sealed apart from it.
  await db.schema
    .createTable("oidc_clients")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("client_id", "text", (c) => c.notNull())
    .addColumn("metadata", "text", (c) => c.notNull())
    .addColumn("secret", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("oidc_clients_pk", ["tenant_id", "client_id"])
    .execute();

  // oidc-provider's models. The id (for opaque tokens, the token itself) is stored hashed and the
  // payload sealed; the columns beside them are the lookups the adapter needs.
  await db.schema
    .createTable("oidc_models")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("model", "text", (c) => c.notNull())
    .addColumn("id_hash", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("grant_id", "text")
    .addColumn("session_uid", "text")
    .addColumn("account_id", "text")
    .addColumn("client_id", "text")
    .addColumn("expires_at", "bigint")
    .addColumn("consumed_at", "bigint")
    .addPrimaryKeyConstraint("oidc_models_pk", ["tenant_id", "model", "id_hash"])
    .execute();
  await db.schema.createIndex("oidc_models_grant").on("oidc_models").columns(["tenant_id", "grant_id"]).execute();
  await db.schema.createIndex("oidc_models_session").on("oidc_models").columns(["tenant_id", "model", "session_uid"]).execute();
  await db.schema.createIndex("oidc_models_account").on("oidc_models").columns(["tenant_id", "model", "account_id", "client_id"]).execute();
  await db.schema.createIndex("oidc_models_expiry").on("oidc_models").columns(["expires_at"]).execute();

  // What a holder agreed to share with a client: remembered across sessions, until withdrawn
  // from the self-service panel (oidc-provider's grants end with the session that made them).
  await db.schema
    .createTable("client_consents")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("client_id", "text", (c) => c.notNull())
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("claims", "text", (c) => c.notNull())
    .addColumn("given_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("client_consents_pk", ["tenant_id", "account_id", "client_id"])
    .execute();
}
