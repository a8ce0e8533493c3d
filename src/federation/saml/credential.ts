import "reflect-metadata";
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import type { IdentityDeps } from "../../identity/deps.ts";
import { newId } from "../../shared/ids.ts";
import type { SamlCredentialRow } from "../../store/repos/saml.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { KEYS_REFRESH_MS } from "../signing-keys.ts";

x509.cryptoProvider.set(globalThis.crypto);

/**
 * A tenant's SAML signing credential: an RSA-2048 key (SPID: at least 2048 bits, SHA-256) with a
 * self-signed certificate, which the metadata publishes and every assertion's KeyInfo carries.
 * The private key is sealed under the master key. Made on first use, once however many nodes
 * start at the same time (a lock in the store); each node rereads it every KEYS_REFRESH_MS.
 */
export interface SamlCredential {
  id: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The certificate, DER in Base64 (as X509Certificate carries it). */
  certificate: string;
  notAfter: number;
}

const VALID_YEARS = 5;
const sealContext = (tenantId: string, id: string) => `saml-key:${tenantId}:${id}`;

async function newCredentialRow(deps: IdentityDeps, tenant: Tenant, host: string): Promise<SamlCredentialRow> {
  const keys = await webcrypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
  const now = deps.clock.now();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + VALID_YEARS);
  const name = new x509.Name([{ CN: [host] }, { O: [tenant.displayName] }, { C: ["IT"] }]).toString();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    // Positive, 16 random bytes (RFC 5280 §4.1.2.2: at most 20 octets).
    serialNumber: `01${randomBytes(15).toString("hex")}`,
    name,
    notBefore: new Date(now - 60_000),
    notAfter,
    keys,
    signingAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  const id = newId();
  return {
    tenant_id: tenant.id,
    id,
    private_key: deps.secrets.seal(pkcs8, sealContext(tenant.id, id)),
    certificate: cert.toString("base64"),
    created_at: now,
    not_after: notAfter.getTime(),
  };
}

function credentialOf(deps: IdentityDeps, row: SamlCredentialRow): SamlCredential {
  const privateKey = createPrivateKey({ key: Buffer.from(deps.secrets.open(row.private_key, sealContext(row.tenant_id, row.id)), "base64"), format: "der", type: "pkcs8" });
  return { id: row.id, privateKey, publicKey: createPublicKey(privateKey), certificate: row.certificate, notAfter: row.not_after };
}

/** The newest credential still valid, made if there is none. */
async function loadCredential(deps: IdentityDeps, tenant: Tenant, host: string): Promise<SamlCredential> {
  const usable = (rows: SamlCredentialRow[]) => rows.find((r) => r.not_after > deps.clock.now());
  const found = usable(await deps.repos.saml.credentials(tenant.id));
  if (found) return credentialOf(deps, found);
  // Made outside the transaction: an RSA key takes tens of milliseconds.
  const made = await newCredentialRow(deps, tenant, host);
  const row = await deps.repos.atomically(async (repos) => {
    await repos.lock(`saml-credential:${tenant.id}`);
    const meanwhile = usable(await repos.saml.credentials(tenant.id));
    if (meanwhile) return meanwhile;
    await repos.saml.insertCredential(made);
    return made;
  });
  return credentialOf(deps, row);
}

/** Each node's copy of its tenants' credentials, reread every KEYS_REFRESH_MS. */
export function samlCredentials(deps: IdentityDeps) {
  const cache = new Map<string, { credential: Promise<SamlCredential>; loadedAt: number }>();
  return async (tenant: Tenant, host: string): Promise<SamlCredential> => {
    const now = deps.clock.now();
    const entry = cache.get(tenant.id);
    if (entry && now - entry.loadedAt < KEYS_REFRESH_MS) return entry.credential;
    const credential = loadCredential(deps, tenant, host);
    cache.set(tenant.id, { credential, loadedAt: now });
    credential.catch(() => cache.delete(tenant.id));
    return credential;
  };
}

export type SamlCredentials = ReturnType<typeof samlCredentials>;
