import type { Kysely, Selectable } from "kysely";
import type { Database, OperatorsTable, ProofingCasesTable, ProofingEvidenceTable } from "../schema.gen.ts";

export type OperatorRow = Selectable<OperatorsTable>;
export type ProofingCaseRow = Selectable<ProofingCasesTable>;
export type EvidenceRow = Selectable<ProofingEvidenceTable>;
/** Evidence without its content: what lists show. */
export type EvidenceInfo = Omit<EvidenceRow, "content">;

/** Identity proofing (flows/proofing): staff roles, cases, evidence; every query scoped by tenant. */
export function proofingRepo(db: Kysely<Database>) {
  return {
    operatorRoles(tenantId: string, accountId: string): Promise<OperatorRow[]> {
      return db.selectFrom("operators").selectAll().where("tenant_id", "=", tenantId).where("account_id", "=", accountId).execute();
    },

    operators(tenantId: string): Promise<OperatorRow[]> {
      return db.selectFrom("operators").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").execute();
    },

    async putOperator(row: OperatorRow): Promise<void> {
      await db
        .insertInto("operators")
        .values(row)
        .onConflict((oc) => oc.columns(["tenant_id", "account_id", "role"]).doUpdateSet({ point: row.point }))
        .execute();
    },

    async removeOperator(tenantId: string, accountId: string, role: string): Promise<boolean> {
      const result = await db.deleteFrom("operators").where("tenant_id", "=", tenantId).where("account_id", "=", accountId).where("role", "=", role).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    async insertCase(row: ProofingCaseRow): Promise<void> {
      await db.insertInto("proofing_cases").values(row).execute();
    },

    findCase(tenantId: string, id: string): Promise<ProofingCaseRow | undefined> {
      return db.selectFrom("proofing_cases").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
    },

    /** The account's cases, newest first. */
    casesOf(tenantId: string, accountId: string): Promise<ProofingCaseRow[]> {
      return db.selectFrom("proofing_cases").selectAll().where("tenant_id", "=", tenantId).where("account_id", "=", accountId).orderBy("created_at", "desc").execute();
    },

    /** Cases in `states`, by method and point if given, oldest first (a queue). */
    queue(tenantId: string, filter: { states: string[]; method?: string; point?: string; limit?: number }): Promise<ProofingCaseRow[]> {
      let query = db.selectFrom("proofing_cases").selectAll().where("tenant_id", "=", tenantId).where("state", "in", filter.states);
      if (filter.method !== undefined) query = query.where("method", "=", filter.method);
      if (filter.point !== undefined) query = query.where("point", "=", filter.point);
      return query.orderBy("booked_at").orderBy("created_at").limit(filter.limit ?? 200).execute();
    },

    /** Cases by request number or by the applicant's codice fiscale, newest first. */
    search(tenantId: string, term: { request?: string; fiscalCode?: string }): Promise<ProofingCaseRow[]> {
      let query = db.selectFrom("proofing_cases").innerJoin("accounts", "accounts.id", "proofing_cases.account_id").selectAll("proofing_cases").where("proofing_cases.tenant_id", "=", tenantId);
      if (term.request !== undefined) query = query.where("proofing_cases.request", "=", term.request);
      if (term.fiscalCode !== undefined) query = query.where("accounts.fiscal_code", "=", term.fiscalCode);
      return query.orderBy("proofing_cases.created_at", "desc").limit(50).execute();
    },

    /**
     * Moves a case from one of `from` to a new state with what goes with it; false when the case
     * was no longer in one of them (decided meanwhile, on this node or another).
     */
    async transition(tenantId: string, id: string, from: string[], change: Partial<Omit<ProofingCaseRow, "tenant_id" | "id">>): Promise<boolean> {
      const result = await db.updateTable("proofing_cases").set(change).where("tenant_id", "=", tenantId).where("id", "=", id).where("state", "in", from).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async insertEvidence(row: EvidenceRow): Promise<void> {
      await db.insertInto("proofing_evidence").values(row).execute();
    },

    evidenceOf(tenantId: string, caseId: string): Promise<EvidenceInfo[]> {
      return db
        .selectFrom("proofing_evidence")
        .select(["tenant_id", "id", "case_id", "kind", "media_type", "sha256", "size", "created_by", "created_at", "retain_until"])
        .where("tenant_id", "=", tenantId)
        .where("case_id", "=", caseId)
        .orderBy("created_at")
        .execute();
    },

    evidence(tenantId: string, id: string): Promise<EvidenceRow | undefined> {
      return db.selectFrom("proofing_evidence").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
    },

    async retainEvidence(tenantId: string, caseId: string, until: number): Promise<void> {
      await db.updateTable("proofing_evidence").set({ retain_until: until }).where("tenant_id", "=", tenantId).where("case_id", "=", caseId).execute();
    },

    /** Evidence past its retention period goes (the maintenance job). */
    async deleteExpiredEvidence(now: number): Promise<number> {
      const result = await db.deleteFrom("proofing_evidence").where("retain_until", "<", now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
