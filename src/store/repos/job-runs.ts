import type { Kysely } from "kysely";
import type { Database } from "../schema.gen.ts";

/** Claims on periodic job runs: one row per job and period, written by the node that runs it. */
export function jobRunRepo(db: Kysely<Database>) {
  return {
    /** True if this node is the first to claim the period (and so runs the job). */
    async claim(job: string, period: number, node: string, now: number): Promise<boolean> {
      const inserted = await db
        .insertInto("job_runs")
        .values({ job, period, node, started_at: now, finished_at: null })
        .onConflict((oc) => oc.columns(["job", "period"]).doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async finish(job: string, period: number, now: number): Promise<void> {
      await db.updateTable("job_runs").set({ finished_at: now }).where("job", "=", job).where("period", "=", period).execute();
    },

    /** Gives a failed run's period back, so that a later attempt (on any node) can claim it. */
    async release(job: string, period: number, node: string): Promise<void> {
      await db.deleteFrom("job_runs").where("job", "=", job).where("period", "=", period).where("node", "=", node).execute();
    },

    async deleteStartedBefore(time: number): Promise<void> {
      await db.deleteFrom("job_runs").where("started_at", "<", time).execute();
    },
  };
}
