import type { Kysely, Selectable } from "kysely";
import type { CertificatesTable, CrlsTable, Database, OcspResponsesTable, PkiAuthoritiesTable, PkiKeysTable } from "../schema.gen.ts";

export type PkiKeyRow = Selectable<PkiKeysTable>;
export type AuthorityRow = Selectable<PkiAuthoritiesTable>;
export type CertificateRow = Selectable<CertificatesTable>;
export type CrlRow = Selectable<CrlsTable>;
export type OcspResponseRow = Selectable<OcspResponsesTable>;

/** A certificate's status with the OCSP response signed ahead for it, if any (one query). */
export interface StatusWithResponse {
  revoked_at: number | null;
  revocation_reason: number | null;
  not_after: number;
  response_status: string | null;
  response_this_update: number | null;
  response_der: string | null;
}

/** Everything the PKI keeps (pki/), each query scoped by tenant. */
export function pkiRepo(db: Kysely<Database>) {
  return {
    async insertKey(row: PkiKeyRow): Promise<void> {
      await db.insertInto("pki_keys").values(row).execute();
    },

    key(tenantId: string, id: string): Promise<PkiKeyRow | undefined> {
      return db.selectFrom("pki_keys").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
    },

    /** A key under sole control, re-wrapped for a new password (its sealed private key and protection). */
    async rewrapKey(tenantId: string, id: string, privateKey: string, protection: string): Promise<void> {
      await db.updateTable("pki_keys").set({ private_key: privateKey, protection }).where("tenant_id", "=", tenantId).where("id", "=", id).where("destroyed_at", "is", null).execute();
    },

    async markKeyDestroyed(tenantId: string, id: string, at: number): Promise<void> {
      await db.updateTable("pki_keys").set({ destroyed_at: at, private_key: null }).where("tenant_id", "=", tenantId).where("id", "=", id).execute();
    },

    async insertAuthority(row: AuthorityRow): Promise<void> {
      await db.insertInto("pki_authorities").values(row).execute();
    },

    /** The authorities in service (one per role), oldest first. */
    activeAuthorities(tenantId: string): Promise<AuthorityRow[]> {
      return db.selectFrom("pki_authorities").selectAll().where("tenant_id", "=", tenantId).where("retired_at", "is", null).orderBy("created_at").execute();
    },

    async retireAuthority(tenantId: string, id: string, at: number): Promise<void> {
      await db.updateTable("pki_authorities").set({ retired_at: at }).where("tenant_id", "=", tenantId).where("id", "=", id).execute();
    },

    async insertCertificate(row: CertificateRow): Promise<void> {
      await db.insertInto("certificates").values(row).execute();
    },

    certificate(tenantId: string, issuerId: string, serial: string): Promise<CertificateRow | undefined> {
      return db.selectFrom("certificates").selectAll().where("tenant_id", "=", tenantId).where("issuer_id", "=", issuerId).where("serial", "=", serial).executeTakeFirst();
    },

    /** Certificates by serial number alone, whichever authority of the tenant issued them. */
    certificatesBySerial(tenantId: string, serial: string): Promise<CertificateRow[]> {
      return db.selectFrom("certificates").selectAll().where("tenant_id", "=", tenantId).where("serial", "=", serial).execute();
    },

    certificates(tenantId: string, filter: { accountId?: string; issuerId?: string; limit?: number } = {}): Promise<CertificateRow[]> {
      let query = db.selectFrom("certificates").selectAll().where("tenant_id", "=", tenantId);
      if (filter.accountId !== undefined) query = query.where("account_id", "=", filter.accountId);
      if (filter.issuerId !== undefined) query = query.where("issuer_id", "=", filter.issuerId);
      return query.orderBy("created_at", "desc").limit(filter.limit ?? 1000).execute();
    },

    /** Marks a certificate revoked; false when it is unknown or was revoked already. */
    async revoke(tenantId: string, issuerId: string, serial: string, at: number, reason: number): Promise<boolean> {
      const result = await db
        .updateTable("certificates")
        .set({ revoked_at: at, revocation_reason: reason })
        .where("tenant_id", "=", tenantId)
        .where("issuer_id", "=", issuerId)
        .where("serial", "=", serial)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** What a CRL of this issuer lists: every certificate it revoked. */
    revoked(tenantId: string, issuerId: string): Promise<Pick<CertificateRow, "serial" | "revoked_at" | "revocation_reason">[]> {
      return db
        .selectFrom("certificates")
        .select(["serial", "revoked_at", "revocation_reason"])
        .where("tenant_id", "=", tenantId)
        .where("issuer_id", "=", issuerId)
        .where("revoked_at", "is not", null)
        .orderBy("revoked_at")
        .execute();
    },

    async insertCrl(row: CrlRow): Promise<void> {
      await db.insertInto("crls").values(row).execute();
    },

    latestCrl(tenantId: string, issuerId: string): Promise<CrlRow | undefined> {
      return db.selectFrom("crls").selectAll().where("tenant_id", "=", tenantId).where("issuer_id", "=", issuerId).orderBy("number", "desc").limit(1).executeTakeFirst();
    },

    /** CRLs older than the newest `keep` of this issuer go. */
    async pruneCrls(tenantId: string, issuerId: string, belowNumber: number): Promise<void> {
      await db.deleteFrom("crls").where("tenant_id", "=", tenantId).where("issuer_id", "=", issuerId).where("number", "<", belowNumber).execute();
    },

    /** The certificate's status and its signed-ahead response for `hashAlgorithm`, in one query. */
    statusWithResponse(tenantId: string, issuerId: string, serial: string, hashAlgorithm: string): Promise<StatusWithResponse | undefined> {
      return db
        .selectFrom("certificates as c")
        .leftJoin("ocsp_responses as r", (join) =>
          join.onRef("r.tenant_id", "=", "c.tenant_id").onRef("r.issuer_id", "=", "c.issuer_id").onRef("r.serial", "=", "c.serial").on("r.hash_algorithm", "=", hashAlgorithm),
        )
        .select(["c.revoked_at", "c.not_after", "c.revocation_reason", "r.status as response_status", "r.this_update as response_this_update", "r.der as response_der"])
        .where("c.tenant_id", "=", tenantId)
        .where("c.issuer_id", "=", issuerId)
        .where("c.serial", "=", serial)
        .executeTakeFirst();
    },

    async putOcspResponse(row: OcspResponseRow): Promise<void> {
      await db
        .insertInto("ocsp_responses")
        .values(row)
        .onConflict((oc) => oc.columns(["tenant_id", "issuer_id", "serial", "hash_algorithm"]).doUpdateSet({ status: row.status, this_update: row.this_update, der: row.der }))
        .execute();
    },

    async deleteOcspResponses(tenantId: string, issuerId: string, serial: string): Promise<void> {
      await db.deleteFrom("ocsp_responses").where("tenant_id", "=", tenantId).where("issuer_id", "=", issuerId).where("serial", "=", serial).execute();
    },
  };
}
