import { type Kysely, type Selectable, sql } from "kysely";
import type { Database, ThrottlesTable } from "../schema.gen.ts";

export type ThrottleRow = Selectable<ThrottlesTable>;

/** Failed-attempt counters in the database: shared by every node without anything else. */
export function throttleRepo(db: Kysely<Database>) {
  return {
    get(keys: readonly string[]): Promise<ThrottleRow[]> {
      return db.selectFrom("throttles").selectAll().where("key", "in", keys).execute();
    },

    /**
     * Counts one failure, atomically: a counter whose window began before `windowStart`, or whose
     * lock has run out, starts again at 1 (and loses the lock). Returns the counter after the update.
     */
    recordFailure(key: string, now: number, windowStart: number): Promise<ThrottleRow> {
      const restart = sql<boolean>`(throttles.window_started_at < ${windowStart} or throttles.locked_until <= ${now})`;
      return db
        .insertInto("throttles")
        .values({ key, failures: 1, window_started_at: now, last_failure_at: now, locked_until: null })
        .onConflict((oc) =>
          oc.column("key").doUpdateSet({
            failures: sql<number>`case when ${restart} then 1 else throttles.failures + 1 end`,
            window_started_at: sql<number>`case when ${restart} then ${now} else throttles.window_started_at end`,
            locked_until: sql<number | null>`case when throttles.locked_until <= ${now} then null else throttles.locked_until end`,
            last_failure_at: now,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async forgive(key: string): Promise<void> {
      await db
        .updateTable("throttles")
        .set((eb) => ({ failures: eb("failures", "-", 1) }))
        .where("key", "=", key)
        .where("failures", ">", 0)
        .execute();
    },

    async lock(key: string, until: number): Promise<void> {
      await db.updateTable("throttles").set({ locked_until: until }).where("key", "=", key).execute();
    },

    async reset(key: string): Promise<void> {
      await db.deleteFrom("throttles").where("key", "=", key).execute();
    },

    async deleteIdleSince(before: number): Promise<void> {
      await db
        .deleteFrom("throttles")
        .where("last_failure_at", "<", before)
        .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", before)]))
        .execute();
    },
  };
}
