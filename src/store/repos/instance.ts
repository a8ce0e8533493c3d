import type { Kysely } from "kysely";
import type { Database } from "../schema.gen.ts";

/** Facts about the installation as a whole (not about one tenant). */
export function instanceRepo(db: Kysely<Database>) {
  return {
    async get(key: string): Promise<string | undefined> {
      const row = await db.selectFrom("instance_settings").select("value").where("key", "=", key).executeTakeFirst();
      return row?.value;
    },

    /** Stores `value` unless the key is set; returns what is stored now (first writer wins). */
    async getOrSet(key: string, value: string): Promise<string> {
      await db
        .insertInto("instance_settings")
        .values({ key, value })
        .onConflict((oc) => oc.column("key").doNothing())
        .execute();
      const stored = await this.get(key);
      if (stored === undefined) throw new Error(`instance setting ${key} vanished after insert`);
      return stored;
    },
  };
}
