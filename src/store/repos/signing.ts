import type { Kysely, Selectable } from "kysely";
import type { Database, SignatureActivationsTable } from "../schema.gen.ts";

export type SignatureActivationRow = Selectable<SignatureActivationsTable>;

/** Signature activations (SAD), each scoped by tenant. */
export function signingRepo(db: Kysely<Database>) {
  return {
    async insertActivation(row: SignatureActivationRow): Promise<void> {
      await db.insertInto("signature_activations").values(row).execute();
    },

    activation(tenantId: string, id: string): Promise<SignatureActivationRow | undefined> {
      return db.selectFrom("signature_activations").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
    },

    /** Spends signatures of an activation, only if it still has `before` left (another request spent none meanwhile). */
    async spend(tenantId: string, id: string, before: number, after: { hashes: string; remaining: number }): Promise<boolean> {
      const result = await db
        .updateTable("signature_activations")
        .set(after)
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("remaining", "=", before)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    /** Forgets activations that expired before `before` (the maintenance job). */
    async deleteExpired(before: number): Promise<number> {
      const result = await db.deleteFrom("signature_activations").where("expires_at", "<", before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
