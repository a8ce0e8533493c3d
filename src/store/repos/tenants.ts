import type { Insertable, Kysely, Selectable } from "kysely";
import { prepared } from "../prepared.ts";
import type { Database, TenantsTable } from "../schema.gen.ts";

export type TenantRow = Selectable<TenantsTable>;
export type NewTenantRow = Insertable<TenantsTable>;

// Every request of a tenant's reads it.
const byId = prepared((db, p: { id: string }) => db.selectFrom("tenants").selectAll().where("id", "=", p.id));

export function tenantRepo(db: Kysely<Database>) {
  return {
    async find(id: string): Promise<TenantRow | undefined> {
      return (await byId(db, { id })).rows[0];
    },

    list(): Promise<TenantRow[]> {
      return db.selectFrom("tenants").selectAll().orderBy("id").execute();
    },

    async setDecoyHash(id: string, hash: string): Promise<void> {
      await db.updateTable("tenants").set({ decoy_hash: hash }).where("id", "=", id).execute();
    },

    /** Inserts unless a tenant with this id exists; tells which happened. */
    async insertIfAbsent(row: NewTenantRow): Promise<boolean> {
      const result = await db
        .insertInto("tenants")
        .values(row)
        .onConflict((oc) => oc.column("id").doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
  };
}
