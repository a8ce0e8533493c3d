import { type Kysely, sql } from "kysely";
import type { Dialect } from "../dialect.ts";

/**
 * Foundation: instance settings, tenants and the audit log.
 *
 * Portable types only, so that the same migration runs on SQLite and PostgreSQL: `text`,
 * `integer` and `bigint` (times are epoch milliseconds). JSON documents are `text`.
 * Frozen: later changes go into new migrations.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable("instance_settings")
    .addColumn("key", "text", (c) => c.primaryKey().notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("tenants")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("locales", "text", (c) => c.notNull())
    .addColumn("default_locale", "text", (c) => c.notNull())
    .addColumn("policy", "text", (c) => c.notNull())
    .addColumn("branding", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  // One head per chain, locked while appending so that nodes append one at a time.
  await db.schema
    .createTable("audit_heads")
    .addColumn("tenant_id", "text", (c) => c.primaryKey().notNull())
    .addColumn("seq", "bigint", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("audit_entries")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("seq", "bigint", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("subject", "text")
    .addColumn("ip", "text")
    .addColumn("request_id", "text")
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("prev_hash", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("audit_entries_pk", ["tenant_id", "seq"])
    .execute();
  await db.schema.createIndex("audit_entries_type_at").on("audit_entries").columns(["tenant_id", "type", "at"]).execute();

  // The application only ever inserts; the triggers stop accidental edits. Deliberate tampering
  // (dropping the triggers) is what the hash chain and `tessera audit verify` are for.
  if (dialect === "postgres") {
    await sql`
      create function tessera_audit_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_entries is append-only';
      end $$`.execute(db);
    await sql`
      create trigger audit_entries_append_only before update or delete on audit_entries
      for each row execute function tessera_audit_append_only()`.execute(db);
  } else {
    await sql`
      create trigger audit_entries_no_update before update on audit_entries
      begin select raise(abort, 'audit_entries is append-only'); end`.execute(db);
    await sql`
      create trigger audit_entries_no_delete before delete on audit_entries
      begin select raise(abort, 'audit_entries is append-only'); end`.execute(db);
  }
}
