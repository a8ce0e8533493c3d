import type { Kysely, Selectable } from "kysely";
import type { Database, SessionsTable } from "../schema.gen.ts";

export type SessionRow = Selectable<SessionsTable>;

export function sessionRepo(db: Kysely<Database>) {
  return {
    async insert(row: SessionRow): Promise<void> {
      await db.insertInto("sessions").values(row).execute();
    },

    byTokenHash(tenantId: string, tokenHash: string): Promise<SessionRow | undefined> {
      return db
        .selectFrom("sessions")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("token_hash", "=", tokenHash)
        .executeTakeFirst();
    },

    byAccount(accountId: string): Promise<SessionRow[]> {
      return db.selectFrom("sessions").selectAll().where("account_id", "=", accountId).orderBy("last_seen_at", "desc").execute();
    },

    async touch(id: string, now: number): Promise<void> {
      await db.updateTable("sessions").set({ last_seen_at: now }).where("id", "=", id).execute();
    },

    /**
     * Gives the session a new token and other changes, if it still has the token it was found by:
     * of two concurrent rotations one wins, and a session revoked meanwhile stays revoked.
     */
    async rotate(id: string, oldTokenHash: string, changes: Partial<Omit<SessionRow, "id" | "tenant_id" | "account_id">>): Promise<boolean> {
      const result = await db
        .updateTable("sessions")
        .set(changes)
        .where("id", "=", id)
        .where("token_hash", "=", oldTokenHash)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async delete(accountId: string, id: string): Promise<number> {
      const result = await db.deleteFrom("sessions").where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async deleteAllOf(accountId: string, exceptId?: string): Promise<number> {
      let q = db.deleteFrom("sessions").where("account_id", "=", accountId);
      if (exceptId) q = q.where("id", "!=", exceptId);
      return Number((await q.executeTakeFirst()).numDeletedRows);
    },

    /** Removes sessions past their absolute expiry or idle since before `idleBefore`. */
    async deleteExpired(now: number, tenantId: string, idleBefore: number): Promise<void> {
      await db
        .deleteFrom("sessions")
        .where("tenant_id", "=", tenantId)
        .where((eb) => eb.or([eb("expires_at", "<=", now), eb("last_seen_at", "<", idleBefore)]))
        .execute();
    },
  };
}
