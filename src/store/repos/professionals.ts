import type { Kysely, Selectable } from "kysely";
import type { Database, MembershipsTable, OrganizationsTable } from "../schema.gen.ts";

export type OrganizationRow = Selectable<OrganizationsTable>;
export type MembershipRow = Selectable<MembershipsTable>;

/** Organisations, their representatives and their members' memberships (seed 002); every query scoped by tenant. */
export function professionalsRepo(db: Kysely<Database>) {
  return {
    async insertOrganization(row: OrganizationRow): Promise<void> {
      await db.insertInto("organizations").values(row).execute();
    },

    organization(tenantId: string, id: string): Promise<OrganizationRow | undefined> {
      return db.selectFrom("organizations").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
    },

    organizationByTaxId(tenantId: string, taxId: string): Promise<OrganizationRow | undefined> {
      return db.selectFrom("organizations").selectAll().where("tenant_id", "=", tenantId).where("tax_id", "=", taxId).executeTakeFirst();
    },

    organizations(tenantId: string): Promise<OrganizationRow[]> {
      return db.selectFrom("organizations").selectAll().where("tenant_id", "=", tenantId).orderBy("name").execute();
    },

    async putRepresentative(tenantId: string, organizationId: string, accountId: string, at: number): Promise<void> {
      await db
        .insertInto("organization_representatives")
        .values({ tenant_id: tenantId, organization_id: organizationId, account_id: accountId, created_at: at })
        .onConflict((oc) => oc.columns(["tenant_id", "organization_id", "account_id"]).doNothing())
        .execute();
    },

    async removeRepresentative(tenantId: string, organizationId: string, accountId: string): Promise<boolean> {
      const result = await db
        .deleteFrom("organization_representatives")
        .where("tenant_id", "=", tenantId)
        .where("organization_id", "=", organizationId)
        .where("account_id", "=", accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    /** The accounts that represent an organisation. */
    async representatives(tenantId: string, organizationId: string): Promise<string[]> {
      const rows = await db
        .selectFrom("organization_representatives")
        .select("account_id")
        .where("tenant_id", "=", tenantId)
        .where("organization_id", "=", organizationId)
        .orderBy("created_at")
        .execute();
      return rows.map((r) => r.account_id);
    },

    /** The organisations an account represents, by name. */
    represented(tenantId: string, accountId: string): Promise<OrganizationRow[]> {
      return db
        .selectFrom("organizations")
        .innerJoin("organization_representatives as r", (join) => join.onRef("r.tenant_id", "=", "organizations.tenant_id").onRef("r.organization_id", "=", "organizations.id"))
        .selectAll("organizations")
        .where("organizations.tenant_id", "=", tenantId)
        .where("r.account_id", "=", accountId)
        .orderBy("organizations.name")
        .execute();
    },

    async insertMembership(row: MembershipRow): Promise<void> {
      await db.insertInto("memberships").values(row).execute();
    },

    membership(tenantId: string, id: string): Promise<MembershipRow | undefined> {
      return db.selectFrom("memberships").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
    },

    /** The person's open membership of an organisation (requested, authorised or active), if any. */
    openMembership(tenantId: string, organizationId: string, dni: string): Promise<MembershipRow | undefined> {
      return db
        .selectFrom("memberships")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("organization_id", "=", organizationId)
        .where("dni", "=", dni)
        .where("state", "in", ["requested", "authorised", "active"])
        .executeTakeFirst();
    },

    /** An organisation's memberships in `states`, oldest first. */
    membershipsOf(tenantId: string, organizationId: string, states: string[]): Promise<MembershipRow[]> {
      return db
        .selectFrom("memberships")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("organization_id", "=", organizationId)
        .where("state", "in", states)
        .orderBy("created_at")
        .limit(500)
        .execute();
    },

    /** A person's memberships (by account), newest first. */
    membershipsOfAccount(tenantId: string, accountId: string): Promise<MembershipRow[]> {
      return db.selectFrom("memberships").selectAll().where("tenant_id", "=", tenantId).where("account_id", "=", accountId).orderBy("created_at", "desc").execute();
    },

    /** Memberships recorded by one desk officer, newest first. */
    membershipsRecordedBy(tenantId: string, officerId: string, since: number): Promise<MembershipRow[]> {
      return db
        .selectFrom("memberships")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("recorded_by", "=", officerId)
        .where("created_at", ">=", since)
        .orderBy("created_at", "desc")
        .limit(200)
        .execute();
    },

    /**
     * Moves a membership from one of `from` to a new state with what goes with it; false when it
     * was no longer in one of them (decided meanwhile, on this node or another).
     */
    async transitionMembership(tenantId: string, id: string, from: string[], change: Partial<Omit<MembershipRow, "tenant_id" | "id">>): Promise<boolean> {
      const result = await db.updateTable("memberships").set(change).where("tenant_id", "=", tenantId).where("id", "=", id).where("state", "in", from).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
