import type { Kysely } from "kysely";
import type { Database } from "../schema.gen.ts";

/** Sequences per tenant (the codice persona): each call hands out the next value, once. */
export function counterRepo(db: Kysely<Database>) {
  return {
    /**
     * The next value of the tenant's sequence `name`, `first` if it has none yet. One statement,
     * so atomic on both engines: PostgreSQL locks the row for the increment (until the caller's
     * transaction ends), SQLite runs it under its write lock.
     */
    async next(tenantId: string, name: string, first: number): Promise<number> {
      const row = await db
        .insertInto("identifier_counters")
        .values({ tenant_id: tenantId, name, value: first })
        .onConflict((oc) => oc.columns(["tenant_id", "name"]).doUpdateSet((eb) => ({ value: eb("identifier_counters.value", "+", 1) })))
        .returning("value")
        .executeTakeFirstOrThrow();
      return Number(row.value);
    },
  };
}
