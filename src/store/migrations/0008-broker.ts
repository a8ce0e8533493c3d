import type { Kysely } from "kysely";

/**
 * The university broker (seed 001): local registration with an assigned codice persona, upstream
 * identity providers (SPID/CIE over SAML or OpenID Connect), the requests sent to them and the
 * assertions received, and the second factors a mandatory-2FA policy offers. Frozen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Citizenship decides which second factors are offered (seed 001: "Hai la cittadinanza
  // italiana?"): ISO 3166-1 alpha-2, or null while unknown. A codice fiscale is verified once an
  // upstream identity provider asserted it; until then it is what the holder typed.
  await db.schema.alterTable("accounts").addColumn("citizenship", "text").execute();
  await db.schema.alterTable("accounts").addColumn("fiscal_code_verified_at", "bigint").execute();

  // Identifiers handed out in sequence (the codice persona): one row per tenant and sequence,
  // incremented atomically, so that two nodes never hand out the same number and none is reused.
  await db.schema
    .createTable("identifier_counters")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("value", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("identifier_counters_pk", ["tenant_id", "name"])
    .execute();

  // Upstream identity providers of a broker tenant: what was configured (metadata URL or file,
  // issuer and client credentials, sealed) and what was last fetched from them.
  await db.schema
    .createTable("upstreams")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("protocol", "text", (c) => c.notNull())
    .addColumn("scheme", "text", (c) => c.notNull())
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("config", "text", (c) => c.notNull())
    .addColumn("metadata", "text")
    .addColumn("metadata_fetched_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("upstreams_pk", ["tenant_id", "id"])
    .execute();

  // A request sent to an upstream (a SAML AuthnRequest's ID, an OpenID Connect state): what it
  // was for, its sealed secrets (PKCE verifier, nonce), and once answered the identity the answer
  // proved, sealed, until the flow that asked takes it (once).
  await db.schema
    .createTable("broker_requests")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("upstream_id", "text", (c) => c.notNull())
    .addColumn("flow_id", "text", (c) => c.notNull())
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("level", "integer", (c) => c.notNull())
    .addColumn("secrets", "text", (c) => c.notNull())
    .addColumn("result", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("answered_at", "bigint")
    .addColumn("taken_at", "bigint")
    .execute();
  await db.schema.createIndex("broker_requests_expiry").on("broker_requests").column("expires_at").execute();

  // Assertions already accepted, by their issuer and ID, until they expire: a replay is refused.
  await db.schema
    .createTable("broker_assertions")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("upstream_id", "text", (c) => c.notNull())
    .addColumn("assertion_id", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("broker_assertions_pk", ["tenant_id", "upstream_id", "assertion_id"])
    .execute();

  // "Attiva 2FA con SPID/CIE": the second factor is a step-up at an upstream, at level 2, for the
  // account's own codice fiscale.
  await db.schema
    .createTable("upstream_factors")
    .addColumn("account_id", "text", (c) => c.primaryKey().notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  // "Dichiara e prosegui senza SPID/CIE": the declaration, kept, and the temporary app factor it
  // allows, which stops counting when it expires.
  await db.schema
    .createTable("declarations")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("text", "text", (c) => c.notNull())
    .addColumn("ip", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("declarations_account").on("declarations").columns(["account_id", "created_at"]).execute();
  await db.schema.alterTable("totp_factors").addColumn("expires_at", "bigint").execute();
}
