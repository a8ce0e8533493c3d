import type { Kysely, Selectable } from "kysely";
import type { Dialect } from "../dialect.ts";
import { placeholderRow, prepared } from "../prepared.ts";
import type { Database, FlowsTable } from "../schema.gen.ts";

export type FlowRow = Selectable<FlowsTable>;

const FLOW_COLUMNS = ["id", "tenant_id", "kind", "channel", "state", "step", "data", "csrf_token", "account_id", "created_at", "updated_at", "expires_at"] as const;

// Every step of every flow runs these (store/prepared.ts).
const insertFlow = prepared((db, p: FlowRow) => db.insertInto("flows").values(placeholderRow(p, FLOW_COLUMNS)));
const byId = prepared((db, p: { tenantId: string; id: string }) => db.selectFrom("flows").selectAll().where("tenant_id", "=", p.tenantId).where("id", "=", p.id));
const byIdLocked = prepared((db, p: { tenantId: string; id: string }) => db.selectFrom("flows").selectAll().where("tenant_id", "=", p.tenantId).where("id", "=", p.id).forUpdate());

export function flowRepo(db: Kysely<Database>, dialect: Dialect) {
  return {
    async insert(row: FlowRow): Promise<void> {
      await insertFlow(db, row);
    },

    /**
     * A flow of the tenant. Inside a transaction on PostgreSQL the row is locked until it ends, so
     * that two submissions of one step (two nodes, a double click) are handled one after the other.
     */
    async find(tenantId: string, id: string): Promise<FlowRow | undefined> {
      return (await (dialect === "postgres" && db.isTransaction ? byIdLocked : byId)(db, { tenantId, id })).rows[0];
    },

    async update(id: string, changes: Partial<Omit<FlowRow, "id" | "tenant_id" | "kind" | "created_at">>): Promise<void> {
      await db.updateTable("flows").set(changes).where("id", "=", id).execute();
    },

    /** The account's newest flow of a kind (an enrolment to resume, or to show). */
    latestOf(tenantId: string, accountId: string, kind: string): Promise<FlowRow | undefined> {
      return db
        .selectFrom("flows")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("account_id", "=", accountId)
        .where("kind", "=", kind)
        .orderBy("created_at", "desc")
        .executeTakeFirst();
    },

    /** Open flows of a kind whose expiry falls in [from, to). */
    expiringBetween(kind: string, from: number, to: number): Promise<FlowRow[]> {
      return db
        .selectFrom("flows")
        .selectAll()
        .where("kind", "=", kind)
        .where("state", "=", "active")
        .where("expires_at", ">=", from)
        .where("expires_at", "<", to)
        .execute();
    },

    /** Deletes flows of every kind but `keep` that expired before `time`; returns how many. */
    async deleteExpiredExcept(keep: string, time: number): Promise<number> {
      const result = await db.deleteFrom("flows").where("kind", "<>", keep).where("expires_at", "<", time).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Ends the account's open flows of a kind (a newer one replaces them); returns how many. */
    async deleteOpen(tenantId: string, accountId: string, kind: string): Promise<number> {
      const result = await db.deleteFrom("flows").where("tenant_id", "=", tenantId).where("account_id", "=", accountId).where("kind", "=", kind).where("state", "=", "active").executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom("flows").where("id", "=", id).execute();
    },
  };
}
