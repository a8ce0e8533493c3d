import type { Kysely, Selectable } from "kysely";
import type { ConsentsTable, Database } from "../schema.gen.ts";

export type ConsentRow = Selectable<ConsentsTable>;

export function consentRepo(db: Kysely<Database>) {
  return {
    async insert(row: ConsentRow): Promise<void> {
      await db.insertInto("consents").values(row).execute();
    },

    /** Marks the current grant for a purpose withdrawn; false when there was none. */
    async withdraw(accountId: string, purpose: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable("consents")
        .set({ withdrawn_at: now })
        .where("account_id", "=", accountId)
        .where("purpose", "=", purpose)
        .where("granted", "=", 1)
        .where("withdrawn_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    of(accountId: string): Promise<ConsentRow[]> {
      return db.selectFrom("consents").selectAll().where("account_id", "=", accountId).orderBy("given_at").orderBy("purpose").execute();
    },
  };
}
