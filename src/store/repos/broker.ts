import type { Kysely, Selectable } from "kysely";
import type { BrokerRequestsTable, Database, DeclarationsTable, UpstreamsTable } from "../schema.gen.ts";

export type UpstreamRow = Selectable<UpstreamsTable>;
export type BrokerRequestRow = Selectable<BrokerRequestsTable>;
export type DeclarationRow = Selectable<DeclarationsTable>;

/** What a broker tenant keeps about its upstream identity providers (federation/broker), by tenant. */
export function brokerRepo(db: Kysely<Database>) {
  return {
    upstreams(tenantId: string): Promise<UpstreamRow[]> {
      return db.selectFrom("upstreams").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").orderBy("id").execute();
    },

    upstream(tenantId: string, id: string): Promise<UpstreamRow | undefined> {
      return db.selectFrom("upstreams").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
    },

    /** Adds an upstream, or replaces its configuration. */
    async putUpstream(row: UpstreamRow): Promise<void> {
      const { tenant_id: _t, id: _i, created_at: _c, ...changes } = row;
      await db.insertInto("upstreams").values(row).onConflict((oc) => oc.columns(["tenant_id", "id"]).doUpdateSet(changes)).execute();
    },

    async setUpstreamMetadata(tenantId: string, id: string, metadata: string, fetchedAt: number): Promise<void> {
      await db.updateTable("upstreams").set({ metadata, metadata_fetched_at: fetchedAt, updated_at: fetchedAt }).where("tenant_id", "=", tenantId).where("id", "=", id).execute();
    },

    async deleteUpstream(tenantId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom("upstreams").where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    async insertRequest(row: BrokerRequestRow): Promise<void> {
      await db.insertInto("broker_requests").values(row).execute();
    },

    request(tenantId: string, id: string): Promise<BrokerRequestRow | undefined> {
      return db.selectFrom("broker_requests").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
    },

    /** Records the answer to a request; false if it was answered already (a second answer is refused). */
    async answerRequest(tenantId: string, id: string, result: string, now: number): Promise<boolean> {
      const done = await db
        .updateTable("broker_requests")
        .set({ result, answered_at: now })
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("answered_at", "is", null)
        .where("expires_at", ">", now)
        .executeTakeFirst();
      return Number(done.numUpdatedRows) === 1;
    },

    /** The flow takes the answer, once; false if it was taken already. */
    async takeRequest(tenantId: string, id: string, now: number): Promise<boolean> {
      const done = await db
        .updateTable("broker_requests")
        .set({ taken_at: now })
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("taken_at", "is", null)
        .where("answered_at", "is not", null)
        .executeTakeFirst();
      return Number(done.numUpdatedRows) === 1;
    },

    /** Records an accepted assertion's ID; false when it was seen before (a replay). */
    async rememberAssertion(tenantId: string, upstreamId: string, assertionId: string, expiresAt: number): Promise<boolean> {
      const result = await db
        .insertInto("broker_assertions")
        .values({ tenant_id: tenantId, upstream_id: upstreamId, assertion_id: assertionId, expires_at: expiresAt })
        .onConflict((oc) => oc.columns(["tenant_id", "upstream_id", "assertion_id"]).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async hasUpstreamFactor(accountId: string): Promise<boolean> {
      return (await db.selectFrom("upstream_factors").select("account_id").where("account_id", "=", accountId).executeTakeFirst()) !== undefined;
    },

    async addUpstreamFactor(accountId: string, now: number): Promise<void> {
      await db.insertInto("upstream_factors").values({ account_id: accountId, created_at: now }).onConflict((oc) => oc.column("account_id").doNothing()).execute();
    },

    async removeUpstreamFactor(accountId: string): Promise<boolean> {
      return Number((await db.deleteFrom("upstream_factors").where("account_id", "=", accountId).executeTakeFirst()).numDeletedRows) === 1;
    },

    async insertDeclaration(row: DeclarationRow): Promise<void> {
      await db.insertInto("declarations").values(row).execute();
    },

    declarations(accountId: string): Promise<DeclarationRow[]> {
      return db.selectFrom("declarations").selectAll().where("account_id", "=", accountId).orderBy("created_at", "desc").execute();
    },

    /** Forgets requests and assertions past their time (the maintenance job). */
    async purgeExpired(now: number): Promise<void> {
      await db.deleteFrom("broker_requests").where("expires_at", "<", now).execute();
      await db.deleteFrom("broker_assertions").where("expires_at", "<", now).execute();
    },
  };
}
