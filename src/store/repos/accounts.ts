import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from "kysely";
import { prepared } from "../prepared.ts";
import type { AccountsTable, Database, PasswordsTable } from "../schema.gen.ts";

export type AccountRow = Selectable<AccountsTable>;
export type NewAccountRow = Insertable<AccountsTable>;
export type AccountUpdate = Updateable<Omit<AccountsTable, "id" | "tenant_id" | "created_at">>;
export type PasswordRow = Selectable<PasswordsTable>;

// What every sign-in runs (store/prepared.ts).
const byId = prepared((db, p: { tenantId: string; id: string }) => db.selectFrom("accounts").selectAll().where("tenant_id", "=", p.tenantId).where("id", "=", p.id));
const withPassword = (db: Kysely<Database>) =>
  db
    .selectFrom("accounts")
    .leftJoin("passwords", (join) => join.on(sql<boolean>`passwords.account_id = coalesce(accounts.credential_account_id, accounts.id)`))
    .selectAll("accounts")
    .select(["passwords.account_id as password_account_id", "passwords.hash as password_hash", "passwords.set_at as password_set_at", "passwords.must_change as password_must_change"]);
const withPasswordById = prepared((db, p: { tenantId: string; id: string }) => withPassword(db).where("accounts.tenant_id", "=", p.tenantId).where("accounts.id", "=", p.id));
const withPasswordByIdentifier = prepared((db, p: { tenantId: string; kind: string; identifier: string }) =>
  withPassword(db).where("accounts.tenant_id", "=", p.tenantId).where("accounts.kind", "=", p.kind).where("accounts.identifier", "=", p.identifier),
);

/** The account aggregate: the account, its password with history, its security answer. */
export function accountRepo(db: Kysely<Database>) {
  return {
    async find(tenantId: string, id: string): Promise<AccountRow | undefined> {
      return (await byId(db, { tenantId, id })).rows[0];
    },

    findByIdentifier(tenantId: string, kind: string, identifier: string): Promise<AccountRow | undefined> {
      return db
        .selectFrom("accounts")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("kind", "=", kind)
        .where("identifier", "=", identifier)
        .executeTakeFirst();
    },

    /**
     * An account and the password it signs in with (its own, or its credential owner's), in one
     * statement: a sign-in reads both, twice (identity/password-sign-in.ts).
     */
    async findWithPassword(tenantId: string, where: { id: string } | { kind: string; identifier: string }): Promise<{ account: AccountRow; password: PasswordRow | undefined } | undefined> {
      const row = ("id" in where ? (await withPasswordById(db, { tenantId, id: where.id })) : await withPasswordByIdentifier(db, { tenantId, ...where })).rows[0];
      if (!row) return undefined;
      const { password_account_id, password_hash, password_set_at, password_must_change, ...account } = row;
      const password = password_account_id !== null && password_hash !== null && password_set_at !== null && password_must_change !== null
        ? { account_id: password_account_id, hash: password_hash, set_at: password_set_at, must_change: password_must_change }
        : undefined;
      return { account, password };
    },

    /** The identity linked to a shop account (sharing its password), if any. */
    linkedTo(tenantId: string, credentialAccountId: string): Promise<AccountRow | undefined> {
      return db
        .selectFrom("accounts")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("credential_account_id", "=", credentialAccountId)
        .executeTakeFirst();
    },

    findByFiscalCode(tenantId: string, kind: string, fiscalCode: string): Promise<AccountRow | undefined> {
      return db
        .selectFrom("accounts")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("kind", "=", kind)
        .where("fiscal_code", "=", fiscalCode)
        .executeTakeFirst();
    },

    /** False when the identifier is taken in the tenant (for this kind of account). */
    async insert(row: NewAccountRow): Promise<boolean> {
      const result = await db
        .insertInto("accounts")
        .values(row)
        .onConflict((oc) => oc.columns(["tenant_id", "kind", "identifier"]).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /** The number of the highest spidCode with this prefix among the tenant's accounts. */
    async highestSpidCode(tenantId: string, prefix: string): Promise<number | undefined> {
      const row = await db.selectFrom("accounts").select((eb) => eb.fn.max("spid_code").as("code")).where("tenant_id", "=", tenantId).where("spid_code", "like", `${prefix}%`).executeTakeFirst();
      return row?.code ? Number(row.code.slice(prefix.length)) : undefined;
    },

    /** Accounts of the tenant never confirmed and created before `before`: what an abandoned registration leaves. */
    async deleteUnconfirmedBefore(tenantId: string, before: number): Promise<number> {
      const result = await db.deleteFrom("accounts").where("tenant_id", "=", tenantId).where("state", "=", "unconfirmed").where("created_at", "<", before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async delete(tenantId: string, id: string): Promise<void> {
      await db.deleteFrom("accounts").where("tenant_id", "=", tenantId).where("id", "=", id).execute();
    },

    async update(tenantId: string, id: string, changes: AccountUpdate): Promise<void> {
      await db.updateTable("accounts").set(changes).where("tenant_id", "=", tenantId).where("id", "=", id).execute();
    },

    password(accountId: string): Promise<PasswordRow | undefined> {
      return db.selectFrom("passwords").selectAll().where("account_id", "=", accountId).executeTakeFirst();
    },

    async setPassword(row: PasswordRow): Promise<void> {
      await db
        .insertInto("passwords")
        .values(row)
        .onConflict((oc) => oc.column("account_id").doUpdateSet({ hash: row.hash, set_at: row.set_at, must_change: row.must_change }))
        .execute();
    },

    /** Replaces the hash only (a rehash with new parameters): the password itself is unchanged. */
    async rehashPassword(accountId: string, hash: string): Promise<void> {
      await db.updateTable("passwords").set({ hash }).where("account_id", "=", accountId).execute();
    },

    /** Past passwords, newest first. */
    passwordHistory(accountId: string) {
      return db
        .selectFrom("password_history")
        .select(["set_at", "retired_at", "hash"])
        .where("account_id", "=", accountId)
        .orderBy("set_at", "desc")
        .execute();
    },

    async addPasswordHistory(accountId: string, entry: { set_at: number; retired_at: number; hash: string }): Promise<void> {
      await db.insertInto("password_history").values({ account_id: accountId, ...entry }).execute();
    },

    async prunePasswordHistory(accountId: string, keepSetAts: number[]): Promise<void> {
      let q = db.deleteFrom("password_history").where("account_id", "=", accountId);
      if (keepSetAts.length > 0) q = q.where("set_at", "not in", keepSetAts);
      await q.execute();
    },

    securityAnswer(accountId: string) {
      return db.selectFrom("security_answers").selectAll().where("account_id", "=", accountId).executeTakeFirst();
    },

    async setSecurityAnswer(row: { account_id: string; question: string; answer_hash: string; set_at: number }): Promise<void> {
      await db
        .insertInto("security_answers")
        .values(row)
        .onConflict((oc) => oc.column("account_id").doUpdateSet({ question: row.question, answer_hash: row.answer_hash, set_at: row.set_at }))
        .execute();
    },

    /** Active identities last used (or, never used, last changed) before `before`. */
    activeUnusedSince(tenantId: string, before: number): Promise<AccountRow[]> {
      return db
        .selectFrom("accounts")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("kind", "=", "identity")
        .where("state", "=", "active")
        .where((eb) => eb.or([eb("last_used_at", "<", before), eb.and([eb("last_used_at", "is", null), eb("updated_at", "<", before)])]))
        .execute();
    },

    /** Accounts of a tenant whose password was set in [from, to), with the password's set time. */
    passwordsSetBetween(tenantId: string, from: number, to: number) {
      return db
        .selectFrom("passwords")
        .innerJoin("accounts", "accounts.id", "passwords.account_id")
        .selectAll("accounts")
        .select(["passwords.set_at as password_set_at"])
        .where("accounts.tenant_id", "=", tenantId)
        .where("passwords.set_at", ">=", from)
        .where("passwords.set_at", "<", to)
        .execute();
    },
  };
}
