import { type Kysely, sql } from "kysely";

/**
 * Professionals in the cloud (seed 002): organisations, their representatives, and each
 * professional's membership of one, from the request to the certificate it leads to. Frozen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // The channel a holder's one-time codes go to at sign-in ("según lo tenga configurado"): sms or
  // email; null: the holder chooses at each sign-in.
  await db.schema.alterTable("accounts").addColumn("preferred_factor", "text").execute();

  // An entity professionals belong to and act for: its name and tax number (a Spanish CIF), as its
  // members' certificates carry them (organizationName, organizationIdentifier VATES-<CIF>).
  await db.schema
    .createTable("organizations")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("tax_id", "text", (c) => c.notNull())
    .addColumn("country", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("organizations_pk", ["tenant_id", "id"])
    .addUniqueConstraint("organizations_tax_id_unique", ["tenant_id", "tax_id"])
    .execute();

  // The accounts that represent an organisation: they authorise or refuse its members' requests.
  await db.schema
    .createTable("organization_representatives")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("organization_id", "text", (c) => c.notNull())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("organization_representatives_pk", ["tenant_id", "organization_id", "account_id"])
    .execute();
  await db.schema.createIndex("organization_representatives_account").on("organization_representatives").columns(["tenant_id", "account_id"]).execute();

  // A professional's membership of an organisation, from the request on: `requested` (made with a
  // card or at a desk; `evidence` says how), then `authorised` or `refused` by a representative,
  // `active` once its certificate is issued, `ended` when that is revoked. The person is named by
  // DNI until the authorisation gives the membership an account; `recorded_by` is the desk
  // officer who identified them. One open membership per person and organisation.
  await db.schema
    .createTable("memberships")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("organization_id", "text", (c) => c.notNull())
    .addColumn("account_id", "text", (c) => c.references("accounts.id").onDelete("cascade"))
    .addColumn("dni", "text", (c) => c.notNull())
    .addColumn("given_name", "text", (c) => c.notNull())
    .addColumn("family_name", "text", (c) => c.notNull())
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("phone", "text")
    .addColumn("document_expiry_date", "text", (c) => c.notNull())
    .addColumn("title", "text")
    .addColumn("channel", "text", (c) => c.notNull())
    .addColumn("evidence", "text", (c) => c.notNull())
    .addColumn("recorded_by", "text")
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("decided_by", "text")
    .addColumn("decided_at", "bigint")
    .addColumn("refusal_reason", "text")
    .addColumn("certificate_serial", "text")
    .addColumn("key_id", "text")
    .addColumn("ended_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("memberships_pk", ["tenant_id", "id"])
    .execute();
  await db.schema
    .createIndex("memberships_open_unique")
    .on("memberships")
    .columns(["tenant_id", "organization_id", "dni"])
    .unique()
    .where(sql.raw<boolean>("state in ('requested', 'authorised', 'active')"))
    .execute();
  await db.schema.createIndex("memberships_organization").on("memberships").columns(["tenant_id", "organization_id", "state"]).execute();
  await db.schema.createIndex("memberships_account").on("memberships").columns(["tenant_id", "account_id"]).execute();
  await db.schema.createIndex("memberships_dni").on("memberships").columns(["tenant_id", "dni"]).execute();
}
