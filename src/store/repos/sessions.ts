import type { Kysely, Selectable } from "kysely";
import { prepared } from "../prepared.ts";
import type { Database, SessionsTable } from "../schema.gen.ts";
import type { AccountRow } from "./accounts.ts";

export type SessionRow = Selectable<SessionsTable>;

const SESSION_COLUMNS = ["id", "token_hash", "tenant_id", "account_id", "level", "amr", "created_at", "authenticated_at", "last_seen_at", "expires_at", "ip", "user_agent"] as const;

// What every sign-in and every signed-in request runs (store/prepared.ts).
const insertSession = prepared((db, p: SessionRow) => db.insertInto("sessions").values(Object.fromEntries(SESSION_COLUMNS.map((c) => [c, p[c]])) as SessionRow));
const touchSession = prepared((db, p: { id: string; now: number }) => db.updateTable("sessions").set({ last_seen_at: p.now }).where("id", "=", p.id));
const withAccount = prepared((db, p: { tenantId: string; tokenHash: string }) =>
  db
    .selectFrom("sessions")
    .leftJoin("accounts", (join) => join.onRef("accounts.tenant_id", "=", "sessions.tenant_id").onRef("accounts.id", "=", "sessions.account_id"))
    .selectAll("accounts")
    .select([
      "sessions.id as session_id",
      "sessions.token_hash as session_token_hash",
      "sessions.tenant_id as session_tenant_id",
      "sessions.account_id as session_account_id",
      "sessions.level as session_level",
      "sessions.amr as session_amr",
      "sessions.created_at as session_created_at",
      "sessions.authenticated_at as session_authenticated_at",
      "sessions.last_seen_at as session_last_seen_at",
      "sessions.expires_at as session_expires_at",
      "sessions.ip as session_ip",
      "sessions.user_agent as session_user_agent",
    ])
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
      const {
        session_id, session_token_hash, session_tenant_id, session_account_id, session_level, session_amr,
        session_created_at, session_authenticated_at, session_last_seen_at, session_expires_at, session_ip, session_user_agent,
        ...account
      } = row;
      const session: SessionRow = {
        id: session_id,
        token_hash: session_token_hash,
        tenant_id: session_tenant_id,
        account_id: session_account_id,
        level: session_level,
        amr: session_amr,
        created_at: session_created_at,
        authenticated_at: session_authenticated_at,
        last_seen_at: session_last_seen_at,
        expires_at: session_expires_at,
        ip: session_ip,
        user_agent: session_user_agent,
      };
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
