import type { Kysely } from "kysely";

/**
 * Sign-in and self-service: the per-account notification choice, access history by account, and
 * the claims that let a periodic job run once per period across all nodes. Frozen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // 1: e-mail the holder at every use of their credentials (SPID users may ask for it).
  await db.schema.alterTable("accounts").addColumn("notify_on_login", "integer", (c) => c.notNull().defaultTo(0)).execute();
  // Access history reads a tenant's audit entries about one account, newest first.
  await db.schema.createIndex("audit_entries_subject").on("audit_entries").columns(["tenant_id", "subject", "at"]).execute();
  // A job run is claimed by inserting its (job, period) row: the first node to do so runs it.
  await db.schema
    .createTable("job_runs")
    .addColumn("job", "text", (c) => c.notNull())
    .addColumn("period", "bigint", (c) => c.notNull())
    .addColumn("node", "text", (c) => c.notNull())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .addPrimaryKeyConstraint("job_runs_pk", ["job", "period"])
    .execute();
}
