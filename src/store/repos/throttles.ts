import { type Kysely, type Selectable, sql } from "kysely";
import { prepared } from "../prepared.ts";
import type { Database, ThrottlesTable } from "../schema.gen.ts";

export type ThrottleRow = Selectable<ThrottlesTable>;

// Every sign-in runs these (store/prepared.ts).
const recordFailure = prepared((db, p: { key: string; now: number; windowStart: number }) => {
  const restart = sql<boolean>`(throttles.window_started_at < ${p.windowStart} or throttles.locked_until <= ${p.now})`;
  return db
    .insertInto("throttles")
    .values({ key: p.key, failures: sql.lit(1), window_started_at: p.now, last_failure_at: p.now, locked_until: sql.lit(null) })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet({
        failures: sql<number>`case when ${restart} then 1 else throttles.failures + 1 end`,
        window_started_at: sql<number>`case when ${restart} then ${p.now} else throttles.window_started_at end`,
        locked_until: sql<number | null>`case when throttles.locked_until <= ${p.now} then null else throttles.locked_until end`,
        last_failure_at: p.now,
      }),
    )
    .returningAll();
});

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
    async recordFailure(key: string, now: number, windowStart: number): Promise<ThrottleRow> {
      const [row] = (await recordFailure(db, { key, now, windowStart })).rows;
      if (!row) throw new Error("recording a failure returned no counter");
      return row;
    },

    /**
     * In one statement: one failure taken back from each of `forgive` (never below zero), and
     * `reset` cleared (no failures, no lock, its window begun anew at `now`; the row stays until
     * the clean-up job removes idle counters).
     */
    async giveBack(change: { forgive: readonly string[]; reset?: string }, now: number): Promise<void> {
      const reset = change.reset ?? null;
      const isReset = sql<boolean>`key = ${reset}`;
      await db
        .updateTable("throttles")
        .set({
          failures: sql<number>`case when ${isReset} then 0 else failures - 1 end`,
          locked_until: sql<number | null>`case when ${isReset} then null else locked_until end`,
          window_started_at: sql<number>`case when ${isReset} then ${now} else window_started_at end`,
        })
        .where("key", "in", [...change.forgive, ...(reset === null ? [] : [reset])])
        .where((eb) => eb.or([isReset, eb("failures", ">", 0)]))
        .execute();
    },

    async lock(key: string, until: number): Promise<void> {
      await db.updateTable("throttles").set({ locked_until: until }).where("key", "=", key).execute();
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
