import type { Kysely } from "kysely";

/**
 * Identity proofing (seed 000): the staff who verify identities and the cases they decide, with
 * the evidence each decision rests on. Frozen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // An account of the tenant acting as staff: a registration officer at one point, a video
  // operator or a supervisor. One row per role it holds.
  await db.schema
    .createTable("operators")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("point", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("operators_pk", ["tenant_id", "account_id", "role"])
    .execute();

  // One identity verification of an applicant by one method: pending until decided (approved,
  // or rejected with a reason); with four eyes, an approval waits for a supervisor. `request` is the
  // number the applicant quotes; `data` what the operator or the method recorded.
  await db.schema
    .createTable("proofing_cases")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("request", "text", (c) => c.notNull())
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("point", "text")
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("booked_at", "bigint")
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("decided_by", "text")
    .addColumn("decided_at", "bigint")
    .addColumn("confirmed_by", "text")
    .addColumn("confirmed_at", "bigint")
    .addColumn("reason", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("proofing_cases_pk", ["tenant_id", "id"])
    .execute();
  await db.schema.createIndex("proofing_cases_queue").on("proofing_cases").columns(["tenant_id", "state", "method", "point"]).execute();
  await db.schema.createIndex("proofing_cases_account").on("proofing_cases").columns(["tenant_id", "account_id"]).execute();
  await db.schema.createIndex("proofing_cases_request").on("proofing_cases").columns(["tenant_id", "request"]).execute();

  // The files a decision rests on (document images, a signed contract, the chip's data, a video
  // session's recordings), sealed under the master key, named by their SHA-256, kept until
  // `retain_until` (20 years for SPID). Every read of one is in the audit log.
  await db.schema
    .createTable("proofing_evidence")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("case_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("media_type", "text", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("content", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("retain_until", "bigint")
    .addPrimaryKeyConstraint("proofing_evidence_pk", ["tenant_id", "id"])
    .execute();
  await db.schema.createIndex("proofing_evidence_case").on("proofing_evidence").columns(["tenant_id", "case_id"]).execute();
}
