import type { Kysely } from "kysely";

/**
 * Each tenant's decoy password hash: an argon2id hash of a secret nobody knows, made with the
 * tenant's current cost, that a sign-in for an unknown identifier is verified against so that it
 * costs what a wrong password for a real account costs. Kept with the tenant row, which every
 * request reads anyway, so that no node ever pays for making it during a sign-in. Frozen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("tenants").addColumn("decoy_hash", "text").execute();
}
