import type { Kysely } from "kysely";

/**
 * Enrolment (seed 000): the flow engine's table, consents, and the personal data an identity
 * request collects (SPID attributes). Frozen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Multi-step flows (enrolment, later login, recovery, settings) as resources any node can serve.
  await db.schema
    .createTable("flows")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("kind", "text", (c) => c.notNull())
    // `browser` (HTML pages, bound to a cookie and CSRF-protected) or `api` (JSON clients).
    .addColumn("channel", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("step", "text")
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("csrf_token", "text", (c) => c.notNull())
    .addColumn("account_id", "text", (c) => c.references("accounts.id").onDelete("cascade"))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("flows_account").on("flows").columns(["account_id", "kind"]).execute();
  await db.schema.createIndex("flows_expiry").on("flows").columns(["kind", "state", "expires_at"]).execute();

  // What the holder agreed to, which text version, and when; withdrawals are recorded, not deleted.
  await db.schema
    .createTable("consents")
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("granted", "integer", (c) => c.notNull())
    .addColumn("given_at", "bigint", (c) => c.notNull())
    .addColumn("withdrawn_at", "bigint")
    .addPrimaryKeyConstraint("consents_pk", ["account_id", "purpose", "given_at"])
    .execute();

  // Personal data collected by the identity request, as SPID attributes need it.
  for (const column of [
    "sex",
    "birth_place",
    "county_of_birth",
    "address",
    "postal_code",
    "city",
    "province",
    "digital_address",
    "document_type",
    "document_issuer",
    "document_issue_date",
    "document_expiry_date",
    "health_card_number",
    "health_card_expiry",
    "identification_method",
    "registration_point",
    "spid_code",
  ]) {
    await db.schema.alterTable("accounts").addColumn(column, "text").execute();
  }
  // One identity per person and tenant; NULLs (accounts without a codice fiscale) never collide.
  await db.schema.createIndex("accounts_fiscal_code").unique().on("accounts").columns(["tenant_id", "kind", "fiscal_code"]).execute();
  await db.schema.createIndex("accounts_spid_code").unique().on("accounts").columns(["tenant_id", "spid_code"]).execute();
}
