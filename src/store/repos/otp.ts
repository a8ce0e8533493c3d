import type { Kysely, Selectable } from "kysely";
import type { Database, OtpCodesTable } from "../schema.gen.ts";

export type OtpCodeRow = Selectable<OtpCodesTable>;

export function otpRepo(db: Kysely<Database>) {
  return {
    async insert(row: OtpCodeRow): Promise<void> {
      await db.insertInto("otp_codes").values(row).execute();
    },

    /** The newest code for a purpose. */
    latest(tenantId: string, purpose: string): Promise<OtpCodeRow | undefined> {
      return db
        .selectFrom("otp_codes")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("purpose", "=", purpose)
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst();
    },

    /**
     * Counts an attempt if the code may still take one (unused, unexpired, under the limit), in
     * one statement, so that parallel guesses on any number of nodes are all counted. Returns the
     * attempts after this one, or null when the code can take none.
     */
    async claimAttempt(id: string, maxAttempts: number, now: number): Promise<number | null> {
      const row = await db
        .updateTable("otp_codes")
        .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
        .where("id", "=", id)
        .where("used_at", "is", null)
        .where("attempts", "<", maxAttempts)
        .where("expires_at", ">", now)
        .returning("attempts")
        .executeTakeFirst();
      return row?.attempts ?? null;
    },

    byId(id: string): Promise<OtpCodeRow | undefined> {
      return db.selectFrom("otp_codes").selectAll().where("id", "=", id).executeTakeFirst();
    },

    /** Sends since `since`, for throttling: by purpose and by destination. */
    async sendsSince(tenantId: string, since: number, where: { purpose?: string; purposePrefix?: string; destination?: string; unused?: true }) {
      let q = db
        .selectFrom("otp_codes")
        .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.max("created_at").as("last")])
        .where("tenant_id", "=", tenantId)
        .where("created_at", ">=", since);
      if (where.purpose !== undefined) q = q.where("purpose", "=", where.purpose);
      if (where.destination !== undefined) q = q.where("destination", "=", where.destination);
      if (where.purposePrefix !== undefined) q = q.where("purpose", "like", `${where.purposePrefix}%`);
      if (where.unused) q = q.where("used_at", "is", null);
      const row = await q.executeTakeFirstOrThrow();
      return { count: Number(row.n), last: row.last === null ? null : Number(row.last) };
    },

    /** Marks a code used; false if it was used already (a racing request). */
    async markUsed(id: string, now: number): Promise<boolean> {
      const result = await db.updateTable("otp_codes").set({ used_at: now }).where("id", "=", id).where("used_at", "is", null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async deleteOlderThan(before: number): Promise<void> {
      await db.deleteFrom("otp_codes").where("created_at", "<", before).execute();
    },
  };
}
