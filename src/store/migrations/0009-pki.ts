import type { Kysely } from "kysely";

/**
 * The PKI of a tenant (pki/): its keys, wherever they live; its certification authorities; the
 * certificates they issue and revoke; the CRLs they sign; and OCSP responses signed ahead, for
 * statuses that have not changed. Frozen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // A key pair in a keystore. Software keys keep their private half sealed under the master key
  // (`private_key`); PKCS#11 keys stay on the token, found again by their CKA_ID (`token_object`).
  await db.schema
    .createTable("pki_keys")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("keystore", "text", (c) => c.notNull())
    .addColumn("algorithm", "text", (c) => c.notNull())
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("private_key", "text")
    .addColumn("token_object", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("destroyed_at", "bigint")
    .addPrimaryKeyConstraint("pki_keys_pk", ["tenant_id", "id"])
    .execute();

  // The tenant's authorities: a root, the issuing CA under it, and the OCSP responder and
  // time-stamping unit the issuing CA certifies. A role has one authority at a time (`retired_at`
  // null); renewed ones stay, for what they signed.
  await db.schema
    .createTable("pki_authorities")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("certificate", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("retired_at", "bigint")
    .addPrimaryKeyConstraint("pki_authorities_pk", ["tenant_id", "id"])
    .execute();

  // Every certificate a CA of the tenant issued (the authorities' own among them), by issuer and
  // serial number (hex). Revocation sets `revoked_at` and the RFC 5280 reason code.
  await db.schema
    .createTable("certificates")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("issuer_id", "text", (c) => c.notNull())
    .addColumn("serial", "text", (c) => c.notNull())
    .addColumn("profile", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("account_id", "text", (c) => c.references("accounts.id").onDelete("set null"))
    .addColumn("key_id", "text")
    .addColumn("certificate", "text", (c) => c.notNull())
    .addColumn("not_before", "bigint", (c) => c.notNull())
    .addColumn("not_after", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("revoked_at", "bigint")
    .addColumn("revocation_reason", "integer")
    .addPrimaryKeyConstraint("certificates_pk", ["tenant_id", "issuer_id", "serial"])
    .execute();
  await db.schema.createIndex("certificates_account").on("certificates").columns(["tenant_id", "account_id"]).execute();
  await db.schema.createIndex("certificates_revoked").on("certificates").columns(["tenant_id", "issuer_id", "revoked_at"]).execute();

  // CRLs as signed, numbered in one sequence per issuer (identifier_counters): the newest is served.
  await db.schema
    .createTable("crls")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("issuer_id", "text", (c) => c.notNull())
    .addColumn("number", "bigint", (c) => c.notNull())
    .addColumn("this_update", "bigint", (c) => c.notNull())
    .addColumn("next_update", "bigint", (c) => c.notNull())
    .addColumn("der", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("crls_pk", ["tenant_id", "issuer_id", "number"])
    .execute();

  // OCSP responses signed once and served while the certificate's status is the one they state
  // (`status`) and they are fresh: a request without a nonce costs no signature. One per CertID
  // hash algorithm, as the response must repeat the request's CertID.
  await db.schema
    .createTable("ocsp_responses")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("issuer_id", "text", (c) => c.notNull())
    .addColumn("serial", "text", (c) => c.notNull())
    .addColumn("hash_algorithm", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("this_update", "bigint", (c) => c.notNull())
    .addColumn("der", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("ocsp_responses_pk", ["tenant_id", "issuer_id", "serial", "hash_algorithm"])
    .execute();
}
