import type { Kysely } from "kysely";

/**
 * Remote signing (CSC API v2): keys under their holder's sole control, and the signature
 * activations (SAD) that let a credential sign exactly the hashes its holder authorised. Frozen.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // How a key is unlocked beyond the master key: null for the service's own keys; for a signing
  // credential in the software keystore, JSON {kind: "password", salt, memoryKiB, iterations,
  // parallelism}: the argon2id parameters that turn its holder's signing password into the other
  // half of the key that wraps it (pki/sole-control.ts).
  await db.schema.alterTable("pki_keys").addColumn("protection", "text").execute();

  // An authorisation to sign (credentials/authorize, or a `credential` token): for one credential
  // (the membership), the hashes still to sign (JSON, base64) and how many signatures are left,
  // until `expires_at`. The holder's password share is not here: it travels sealed in the SAD.
  await db.schema
    .createTable("signature_activations")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("id", "text", (c) => c.notNull())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("credential_id", "text", (c) => c.notNull())
    .addColumn("hash_algorithm", "text", (c) => c.notNull())
    .addColumn("hashes", "text", (c) => c.notNull())
    .addColumn("remaining", "integer", (c) => c.notNull())
    .addColumn("client_id", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("signature_activations_pk", ["tenant_id", "id"])
    .execute();
  await db.schema.createIndex("signature_activations_expiry").on("signature_activations").columns(["expires_at"]).execute();
}
