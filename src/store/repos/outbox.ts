import type { Insertable, Kysely, Selectable } from "kysely";
import type { Dialect } from "../dialect.ts";
import type { Database, OutboxTable } from "../schema.gen.ts";

export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;

export function outboxRepo(db: Kysely<Database>, dialect: Dialect) {
  return {
    /** False when a message with the same dedupe key exists: it was queued once already. */
    async insert(row: NewOutboxRow): Promise<boolean> {
      const result = await db
        .insertInto("outbox")
        .values(row)
        .onConflict((oc) => oc.column("dedupe_key").doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /**
     * Claims up to `limit` messages that are due (or whose sender's lease ran out) for `leaseMs`.
     * A message is claimed by one node only: PostgreSQL skips rows another node has locked and
     * re-checks the conditions on the row it updates; SQLite runs the statement under its write lock.
     */
    claimDue(now: number, leaseMs: number, limit: number): Promise<OutboxRow[]> {
      return db
        .updateTable("outbox")
        .set((eb) => ({ status: "sending", lease_until: now + leaseMs, attempts: eb("attempts", "+", 1) }))
        .where((eb) => {
          const due = eb.or([
            eb.and([eb("status", "=", "pending"), eb("next_attempt_at", "<=", now)]),
            eb.and([eb("status", "=", "sending"), eb("lease_until", "<", now)]),
          ]);
          let candidates = eb
            .selectFrom("outbox")
            .select("id")
            .where((inner) =>
              inner.or([
                inner.and([inner("status", "=", "pending"), inner("next_attempt_at", "<=", now)]),
                inner.and([inner("status", "=", "sending"), inner("lease_until", "<", now)]),
              ]),
            )
            .orderBy("next_attempt_at")
            .limit(limit);
          if (dialect === "postgres") candidates = candidates.forUpdate().skipLocked();
          return eb.and([eb("id", "in", candidates), due]);
        })
        .returningAll()
        .execute();
    },

    /**
     * Records the outcome of a claim. `claim` is the row as claimed: its attempt count fences the
     * update, so a node whose lease ran out (and whose message another node claimed since) cannot
     * overwrite the other's outcome. Returns false when the claim was lost.
     */
    async settle(
      claim: { id: string; attempts: number },
      outcome:
        | { status: "sent"; at: number; keepBody: boolean }
        | { status: "pending"; nextAttemptAt: number; error: string }
        | { status: "failed" | "expired"; error: string },
    ): Promise<boolean> {
      const changes =
        outcome.status === "sent"
          ? { status: "sent", sent_at: outcome.at, last_error: null, ...(outcome.keepBody ? {} : { body: null }) }
          : outcome.status === "pending"
            ? { status: "pending", next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error }
            : { status: outcome.status, last_error: outcome.error, body: null };
      const result = await db
        .updateTable("outbox")
        .set({ ...changes, lease_until: null })
        .where("id", "=", claim.id)
        .where("status", "=", "sending")
        .where("attempts", "=", claim.attempts)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** A tenant's messages, newest first, optionally to one recipient (development outbox). */
    list(tenantId: string, options: { recipient?: string; limit: number }): Promise<OutboxRow[]> {
      let q = db.selectFrom("outbox").selectAll().where("tenant_id", "=", tenantId).where("status", "!=", "decoy");
      if (options.recipient !== undefined) q = q.where("recipient", "=", options.recipient);
      return q.orderBy("created_at", "desc").orderBy("id").limit(options.limit).execute();
    },

    async deleteSentBefore(before: number): Promise<void> {
      await db.deleteFrom("outbox").where("status", "in", ["sent", "failed", "expired", "decoy"]).where("created_at", "<", before).execute();
    },
  };
}
