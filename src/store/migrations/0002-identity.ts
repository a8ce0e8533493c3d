import type { Kysely } from "kysely";

/**
 * Identity core: accounts and their credentials and factors, one-time codes, sessions, brute-force
 * counters, and the message outbox. Same portable types as 0001. Frozen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("accounts")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    // `identity`, or `customer`: a shop account of the tenant's (seed 000's "Negozio"), which can
    // be linked to an identity that then shares its password.
    .addColumn("kind", "text", (c) => c.notNull())
    // Normalised per tenant: lower-case e-mail, upper-case DNI/NIE, codice persona.
    .addColumn("identifier", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    // The account whose password this one uses (an identity linked to a shop account), if not its own.
    .addColumn("credential_account_id", "text", (c) => c.references("accounts.id"))
    .addColumn("locale", "text")
    .addColumn("email", "text")
    .addColumn("email_verified_at", "bigint")
    .addColumn("phone", "text")
    .addColumn("phone_verified_at", "bigint")
    .addColumn("given_name", "text")
    .addColumn("family_name", "text")
    .addColumn("fiscal_code", "text")
    .addColumn("birth_date", "text")
    .addColumn("document_number", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("last_used_at", "bigint")
    .addUniqueConstraint("accounts_identifier_unique", ["tenant_id", "kind", "identifier"])
    .execute();

  await db.schema
    .createTable("passwords")
    .addColumn("account_id", "text", (c) => c.primaryKey().notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("hash", "text", (c) => c.notNull())
    // Expiry is set_at plus the tenant's current maximum age, so a policy change applies at once.
    .addColumn("set_at", "bigint", (c) => c.notNull())
    // 1 when the holder must choose a new password before anything else (reset by an operator,
    // a password that no longer meets the policy).
    .addColumn("must_change", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("password_history")
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("set_at", "bigint", (c) => c.notNull())
    .addColumn("retired_at", "bigint", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("password_history_pk", ["account_id", "set_at"])
    .execute();

  await db.schema
    .createTable("security_answers")
    .addColumn("account_id", "text", (c) => c.primaryKey().notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("question", "text", (c) => c.notNull())
    .addColumn("answer_hash", "text", (c) => c.notNull())
    .addColumn("set_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("otp_codes")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("channel", "text", (c) => c.notNull())
    .addColumn("destination", "text", (c) => c.notNull())
    .addColumn("code_mac", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("used_at", "bigint")
    .execute();
  await db.schema.createIndex("otp_codes_purpose").on("otp_codes").columns(["tenant_id", "purpose", "created_at"]).execute();
  await db.schema
    .createIndex("otp_codes_destination")
    .on("otp_codes")
    .columns(["tenant_id", "destination", "created_at"])
    .execute();

  await db.schema
    .createTable("totp_factors")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("secret", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("confirmed_at", "bigint")
    .addColumn("last_step", "bigint")
    .execute();
  await db.schema.createIndex("totp_factors_account").on("totp_factors").column("account_id").execute();

  await db.schema
    .createTable("recovery_codes")
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("code_mac", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("used_at", "bigint")
    .addPrimaryKeyConstraint("recovery_codes_pk", ["account_id", "code_mac"])
    .execute();

  await db.schema
    .createTable("passkeys")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("counter", "bigint", (c) => c.notNull())
    .addColumn("transports", "text", (c) => c.notNull())
    .addColumn("device_type", "text", (c) => c.notNull())
    .addColumn("backed_up", "integer", (c) => c.notNull())
    .addColumn("aaguid", "text")
    .addColumn("name", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_used_at", "bigint")
    .execute();
  await db.schema.createIndex("passkeys_account").on("passkeys").column("account_id").execute();

  await db.schema
    .createTable("webauthn_challenges")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("account_id", "text")
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("challenge", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("sessions")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    // Only a hash of the token in the cookie is stored: a database leak yields no live sessions.
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("level", "integer", (c) => c.notNull())
    .addColumn("amr", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("authenticated_at", "bigint", (c) => c.notNull())
    .addColumn("last_seen_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("ip", "text")
    .addColumn("user_agent", "text")
    .execute();
  await db.schema.createIndex("sessions_account").on("sessions").column("account_id").execute();

  // Failed-attempt counters per account and per client address (brute-force protection).
  await db.schema
    .createTable("throttles")
    .addColumn("key", "text", (c) => c.primaryKey().notNull())
    .addColumn("failures", "integer", (c) => c.notNull())
    .addColumn("window_started_at", "bigint", (c) => c.notNull())
    .addColumn("last_failure_at", "bigint", (c) => c.notNull())
    .addColumn("locked_until", "bigint")
    .execute();

  await db.schema
    .createTable("outbox")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("channel", "text", (c) => c.notNull())
    .addColumn("recipient", "text", (c) => c.notNull())
    .addColumn("template", "text", (c) => c.notNull())
    // Sealed with the master key: messages carry one-time codes and links.
    .addColumn("body", "text")
    // Makes "send this once" hold across nodes: a second insert with the same key does nothing.
    .addColumn("dedupe_key", "text", (c) => c.unique())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
    .addColumn("lease_until", "bigint")
    .addColumn("last_error", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    // A message past this time is not sent (a one-time code that can no longer be used).
    .addColumn("expires_at", "bigint")
    .addColumn("sent_at", "bigint")
    .execute();
  await db.schema.createIndex("outbox_due").on("outbox").columns(["status", "next_attempt_at"]).execute();
  await db.schema.createIndex("outbox_recipient").on("outbox").columns(["tenant_id", "recipient", "created_at"]).execute();
}
