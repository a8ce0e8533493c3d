import type { Insertable, Kysely, Selectable } from "kysely";
import type { Database, PasskeysTable, TotpFactorsTable, WebauthnChallengesTable } from "../schema.gen.ts";

export type TotpFactorRow = Selectable<TotpFactorsTable>;
export type PasskeyRow = Selectable<PasskeysTable>;
export type NewPasskeyRow = Insertable<PasskeysTable>;

/** Second factors of accounts: authenticator apps, recovery codes, passkeys and their challenges. */
export function factorRepo(db: Kysely<Database>) {
  return {
    totpFactors(accountId: string): Promise<TotpFactorRow[]> {
      return db.selectFrom("totp_factors").selectAll().where("account_id", "=", accountId).orderBy("created_at").execute();
    },

    async insertTotp(row: TotpFactorRow): Promise<void> {
      await db.insertInto("totp_factors").values(row).execute();
    },

    async confirmTotp(id: string, confirmedAt: number, step: number): Promise<void> {
      await db.updateTable("totp_factors").set({ confirmed_at: confirmedAt, last_step: step }).where("id", "=", id).execute();
    },

    /**
     * Records `step` as used unless it, or a later one, was used already. Returns false for a
     * replay, atomically, so two nodes cannot both accept the same code.
     */
    async useTotpStep(id: string, step: number): Promise<boolean> {
      const result = await db
        .updateTable("totp_factors")
        .set({ last_step: step })
        .where("id", "=", id)
        .where((eb) => eb.or([eb("last_step", "is", null), eb("last_step", "<", step)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async deleteTotp(accountId: string, id?: string): Promise<number> {
      let q = db.deleteFrom("totp_factors").where("account_id", "=", accountId);
      if (id) q = q.where("id", "=", id);
      return Number((await q.executeTakeFirst()).numDeletedRows);
    },

    async deleteUnconfirmedTotp(accountId: string): Promise<void> {
      await db.deleteFrom("totp_factors").where("account_id", "=", accountId).where("confirmed_at", "is", null).execute();
    },

    async replaceRecoveryCodes(accountId: string, macs: string[], now: number): Promise<void> {
      await db.deleteFrom("recovery_codes").where("account_id", "=", accountId).execute();
      await db
        .insertInto("recovery_codes")
        .values(macs.map((code_mac) => ({ account_id: accountId, code_mac, created_at: now, used_at: null })))
        .execute();
    },

    recoveryCode(accountId: string, mac: string) {
      return db
        .selectFrom("recovery_codes")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("code_mac", "=", mac)
        .executeTakeFirst();
    },

    /** Marks the code used if it is unused; false when it was used already (or by a racing node). */
    async useRecoveryCode(accountId: string, mac: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable("recovery_codes")
        .set({ used_at: now })
        .where("account_id", "=", accountId)
        .where("code_mac", "=", mac)
        .where("used_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async unusedRecoveryCodes(accountId: string): Promise<number> {
      const row = await db
        .selectFrom("recovery_codes")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("account_id", "=", accountId)
        .where("used_at", "is", null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async deleteRecoveryCodes(accountId: string): Promise<void> {
      await db.deleteFrom("recovery_codes").where("account_id", "=", accountId).execute();
    },

    passkeys(accountId: string): Promise<PasskeyRow[]> {
      return db.selectFrom("passkeys").selectAll().where("account_id", "=", accountId).orderBy("created_at").execute();
    },

    passkey(id: string): Promise<PasskeyRow | undefined> {
      return db.selectFrom("passkeys").selectAll().where("id", "=", id).executeTakeFirst();
    },

    /** False when the credential is registered already (to this or another account). */
    async insertPasskey(row: NewPasskeyRow): Promise<boolean> {
      const result = await db
        .insertInto("passkeys")
        .values(row)
        .onConflict((oc) => oc.column("id").doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /**
     * Records a use. The signature counter must rise (WebAuthn §6.1.1) unless the authenticator
     * keeps none (0); checked in the statement, so two parallel uses of a cloned key cannot both
     * pass. False when the counter did not rise.
     */
    async usePasskey(id: string, counter: number, now: number): Promise<boolean> {
      const result = await db
        .updateTable("passkeys")
        .set({ counter, last_used_at: now })
        .where("id", "=", id)
        .where((eb) => (counter === 0 ? eb("counter", "=", 0) : eb("counter", "<", counter)))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async deletePasskey(accountId: string, id: string): Promise<number> {
      const result = await db.deleteFrom("passkeys").where("account_id", "=", accountId).where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async insertChallenge(row: Insertable<WebauthnChallengesTable>): Promise<void> {
      await db.insertInto("webauthn_challenges").values(row).execute();
    },

    /** Takes a challenge: returns it and deletes it, so that it can be used once only. */
    async takeChallenge(tenantId: string, id: string) {
      const row = await db
        .selectFrom("webauthn_challenges")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .executeTakeFirst();
      if (!row) return undefined;
      const deleted = await db.deleteFrom("webauthn_challenges").where("id", "=", id).executeTakeFirst();
      return Number(deleted.numDeletedRows) === 1 ? row : undefined;
    },

    async deleteExpiredChallenges(now: number): Promise<void> {
      await db.deleteFrom("webauthn_challenges").where("expires_at", "<", now).execute();
    },
  };
}
