import { generateKeyPairSync, type JsonWebKey } from "node:crypto";
import { calculateJwkThumbprint, type JWK } from "jose";
import { recordAuditBy } from "../audit/service.ts";
import type { Actor, IdentityDeps } from "../identity/deps.ts";
import type { SigningKeyRow } from "../store/repos/oidc.ts";
import type { Tenant } from "../tenants/tenant.ts";

/**
 * A tenant's signing keys: one RS256 (RSA-2048) and one ES256 (P-256) key sign at any time; the
 * private halves are sealed under the master key. Rotation publishes the new keys first and lets
 * them sign only `activateInSeconds` later, so that every node (each rereads the keys every
 * `KEYS_REFRESH_MS`) publishes a key before anyone signs with it; the keys they replace stop
 * signing then, and stay published for `RETENTION_MS` more, while what they signed is still live.
 */
export const SIGNING_ALGS = ["RS256", "ES256"] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** How often a node rereads its tenants' keys (federation/oidc/providers.ts). */
export const KEYS_REFRESH_MS = 30_000;
/** The default wait between publishing a new key and signing with it: two refreshes. */
export const DEFAULT_ACTIVATION_SECONDS = (2 * KEYS_REFRESH_MS) / 1000;
/** How long a retired key stays published: longer than any token it signed lives (ID tokens: 1 hour). */
export const RETENTION_MS = 24 * 3_600_000;

export type SigningKeyState = "upcoming" | "active" | "retiring";

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  state: SigningKeyState;
  createdAt: number;
  activatesAt: number;
  retiresAt: number | null;
  expiresAt: number | null;
}

const sealContext = (tenantId: string, kid: string) => `signing-key:${tenantId}:${kid}`;

function stateOf(row: SigningKeyRow, now: number): SigningKeyState | "expired" {
  if (row.expires_at !== null && row.expires_at <= now) return "expired";
  if (row.retires_at !== null && row.retires_at <= now) return "retiring";
  return row.activates_at <= now ? "active" : "upcoming";
}

function newKeyPair(alg: SigningAlg): { publicJwk: JsonWebKey; privateJwk: JsonWebKey } {
  const pair = alg === "RS256" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { publicJwk: pair.publicKey.export({ format: "jwk" }), privateJwk: pair.privateKey.export({ format: "jwk" }) };
}

async function newKeyRow(deps: IdentityDeps, tenant: Tenant, alg: SigningAlg, activatesAt: number): Promise<SigningKeyRow> {
  const { publicJwk, privateJwk } = newKeyPair(alg);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    tenant_id: tenant.id,
    kid,
    alg,
    public_jwk: JSON.stringify({ ...publicJwk, kid, alg, use: "sig" }),
    private_jwk: deps.secrets.seal(JSON.stringify({ ...privateJwk, kid, alg, use: "sig" }), sealContext(tenant.id, kid)),
    created_at: deps.clock.now(),
    activates_at: activatesAt,
    retires_at: null,
    expires_at: null,
  };
}

/** Nodes' clocks differ a little: a tenant's first keys sign from a moment every node has passed. */
const CLOCK_SKEW_MS = 60_000;
const firstActivation = (deps: IdentityDeps) => deps.clock.now() - CLOCK_SKEW_MS;

/**
 * Gives the tenant a signing key of each algorithm if it has none that signs or will: at the first
 * start, on every node at once if need be (the first to take the lock makes them).
 */
export async function ensureSigningKeys(deps: IdentityDeps, tenant: Tenant): Promise<void> {
  const missing = (rows: SigningKeyRow[]) =>
    SIGNING_ALGS.filter((alg) => !rows.some((r) => r.alg === alg && r.retires_at === null && stateOf(r, deps.clock.now()) !== "expired"));
  if (missing(await deps.repos.signingKeys.list(tenant.id)).length === 0) return;
  // Made outside the transaction: an RSA key takes tens of milliseconds.
  const made = await Promise.all(SIGNING_ALGS.map((alg) => newKeyRow(deps, tenant, alg, firstActivation(deps))));
  await deps.repos.atomically(async (repos) => {
    await repos.lock(`signing-keys:${tenant.id}`);
    for (const alg of missing(await repos.signingKeys.list(tenant.id))) await repos.signingKeys.insert(made.find((r) => r.alg === alg)!);
  });
}

/**
 * New keys for the tenant, signing in `activateInSeconds`; the keys signing now stop then and
 * stay published for RETENTION_MS. Returns the new keys.
 */
export async function rotateSigningKeys(
  deps: IdentityDeps,
  tenant: Tenant,
  by: Actor,
  options: { activateInSeconds?: number } = {},
): Promise<SigningKey[]> {
  const later = deps.clock.now() + (options.activateInSeconds ?? DEFAULT_ACTIVATION_SECONDS) * 1000;
  const made = await Promise.all(SIGNING_ALGS.map((alg) => newKeyRow(deps, tenant, alg, later)));
  let activatesAt = later;
  await deps.repos.atomically(async (repos) => {
    await repos.lock(`signing-keys:${tenant.id}`);
    const signing = (await repos.signingKeys.list(tenant.id)).filter((r) => r.retires_at === null);
    // A tenant without keys yet has nothing to hand over from, and nothing to sign with meanwhile:
    // its first keys sign at once, as ensureSigningKeys would have made them.
    if (signing.length === 0) {
      activatesAt = firstActivation(deps);
      for (const row of made) row.activates_at = activatesAt;
    }
    await repos.signingKeys.retire(tenant.id, signing.map((r) => r.kid), activatesAt, activatesAt + RETENTION_MS);
    for (const row of made) await repos.signingKeys.insert(row);
    await recordAuditBy(repos, deps.clock, by, {
      tenantId: tenant.id,
      type: "signing_keys.rotated",
      data: { added: made.map((r) => r.kid), retiring: signing.map((r) => r.kid), activatesAt },
    });
  });
  return made.map((r) => keyOf(r, deps.clock.now())!);
}

function keyOf(row: SigningKeyRow, now: number): SigningKey | undefined {
  const state = stateOf(row, now);
  if (state === "expired") return undefined;
  return {
    kid: row.kid,
    alg: row.alg as SigningAlg,
    state,
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiresAt: row.retires_at,
    expiresAt: row.expires_at,
  };
}

/** The tenant's published keys, newest first. */
export async function listSigningKeys(deps: IdentityDeps, tenant: Tenant): Promise<SigningKey[]> {
  const now = deps.clock.now();
  return (await deps.repos.signingKeys.list(tenant.id)).map((r) => keyOf(r, now)).filter((k) => k !== undefined);
}

/** The tenant's published public keys (as its JWKS serves them), to check its tokens with. */
export async function publicKeySet(deps: IdentityDeps, tenant: Tenant): Promise<JWK[]> {
  const now = deps.clock.now();
  return (await deps.repos.signingKeys.list(tenant.id)).filter((r) => stateOf(r, now) !== "expired").map((r) => JSON.parse(r.public_jwk) as JWK);
}

/**
 * The private key set to sign with, as oidc-provider takes it: every published key, those that
 * must not sign now marked `key_ops: ["verify"]`. `version` changes whenever the set or a key's
 * state does, to know when to rebuild.
 */
export async function signingKeySet(deps: IdentityDeps, tenant: Tenant): Promise<{ keys: JWK[]; version: string }> {
  const now = deps.clock.now();
  const rows = (await deps.repos.signingKeys.list(tenant.id)).filter((r) => stateOf(r, now) !== "expired");
  const keys = rows.map((row) => {
    const jwk = JSON.parse(deps.secrets.open(row.private_jwk, sealContext(tenant.id, row.kid))) as JWK;
    return stateOf(row, now) === "active" ? jwk : { ...jwk, key_ops: ["verify"] };
  });
  return { keys, version: rows.map((r) => `${r.kid}:${stateOf(r, now)}`).join(",") };
}

/** The version `signingKeySet` would give now, without opening any private key. */
export async function signingKeysVersion(deps: IdentityDeps, tenant: Tenant): Promise<string> {
  const now = deps.clock.now();
  return (await deps.repos.signingKeys.list(tenant.id))
    .filter((r) => stateOf(r, now) !== "expired")
    .map((r) => `${r.kid}:${stateOf(r, now)}`)
    .join(",");
}
