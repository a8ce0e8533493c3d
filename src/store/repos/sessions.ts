import type { Kysely, Selectable } from "kysely";
import { placeholderRow, prepared } from "../prepared.ts";
import type { Database, SessionsTable } from "../schema.gen.ts";
import type { AccountRow } from "./accounts.ts";

export type SessionRow = Selectable<SessionsTable>;

const SESSION_COLUMNS = ["id", "token_hash", "tenant_id", "account_id", "level", "amr", "created_at", "authenticated_at", "last_seen_at", "expires_at", "ip", "user_agent"] as const;

// What every sign-in and every signed-in request runs (store/prepared.ts).
const insertSession = prepared((db, p: SessionRow) => db.insertInto("sessions").values(placeholderRow(p, SESSION_COLUMNS)));
const touchSession = prepared((db, p: { id: string; now: number }) => db.updateTable("sessions").set({ last_seen_at: p.now }).where("id", "=", p.id));
const withAccount = prepared((db, p: { tenantId: string; tokenHash: string }) =>
  db
    .selectFrom("sessions")
    .leftJoin("accounts", (join) => join.onRef("accounts.tenant_id", "=", "sessions.tenant_id").onRef("accounts.id", "=", "sessions.account_id"))
    .selectAll("accounts")
    .select(SESSION_COLUMNS.map((c) => `sessions.${c} as session_${c}` as const))
    .where("sessions.tenant_id", "=", p.tenantId)
    .where("sessions.token_hash", "=", p.tokenHash),
);

export function sessionRepo(db: Kysely<Database>) {
  return {
    async insert(row: SessionRow): Promise<void> {
      await insertSession(db, row);
    },

    /**
     * The session with this token, and its account, in one statement: every signed-in request
     * reads both (identity/sessions.ts).
     */
    async byTokenHashWithAccount(tenantId: string, tokenHash: string): Promise<{ session: SessionRow; account: AccountRow | undefined } | undefined> {
      const row = (await withAccount(db, { tenantId, tokenHash })).rows[0];
      if (!row) return undefined;
      // The session's columns came prefixed (the account's have the same names); the rest is the account.
      const session = Object.fromEntries(SESSION_COLUMNS.map((c) => [c, row[`session_${c}`]])) as SessionRow;
      const account = Object.fromEntries(Object.entries(row).filter(([k]) => !k.startsWith("session_")));
      return { session, account: account.id === null ? undefined : (account as AccountRow) };
    },

    byAccount(accountId: string): Promise<SessionRow[]> {
      return db.selectFrom("sessions").selectAll().where("account_id", "=", accountId).orderBy("last_seen_at", "desc").execute();
    },

    async touch(id: string, now: number): Promise<void> {
      await touchSession(db, { id, now });
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
