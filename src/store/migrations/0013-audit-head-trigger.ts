import { type Kysely, sql } from "kysely";
import type { Dialect } from "../dialect.ts";

/**
 * The chain head follows each entry inserted, in the database: appending is then one statement
 * (the entry) instead of two (the entry, then the head), under the head's lock all the same.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === "postgres") {
    await sql`
      create function tessera_audit_head_follows() returns trigger language plpgsql as $$
      begin
        update audit_heads set seq = new.seq, hash = new.hash where tenant_id = new.tenant_id;
        return null;
      end $$`.execute(db);
    await sql`
      create trigger audit_head_follows after insert on audit_entries
      for each row execute function tessera_audit_head_follows()`.execute(db);
  } else {
    await sql`
      create trigger audit_head_follows after insert on audit_entries
      begin update audit_heads set seq = new.seq, hash = new.hash where tenant_id = new.tenant_id; end`.execute(db);
  }
}
