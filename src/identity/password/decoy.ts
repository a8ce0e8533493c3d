import { randomBytes } from "node:crypto";
import type { Repos } from "../../store/repos/index.ts";
import type { Tenant } from "../../tenants/tenant.ts";
import { type HashingParams, hashSecret, needsRehash } from "./hashing.ts";

/**
 * The decoy hash: what a secret is verified against when there is nothing real to verify it
 * against (an unknown identifier, an account without a password or a security answer), so that
 * the answer comes after the same argon2id work as a wrong secret for a real account. One per
 * tenant, at the tenant's current cost, made from a random secret that is thrown away: nothing
 * ever matches it.
 *
 * It is stored with the tenant (which every request reads anyway) and made when a node starts,
 * never during a sign-in: a decoy made on first use would cost the first unknown identifier a
 * hash on top of the verification, and show.
 */
export function newDecoyHash(params: HashingParams): Promise<string> {
  return hashSecret(randomBytes(32).toString("base64url"), params);
}

/** Whether the tenant's stored decoy is missing or was made at another cost than its current one. */
function stale(tenant: Tenant): boolean {
  return tenant.decoyHash === null || needsRehash(tenant.decoyHash, tenant.policy.password.hashing);
}

/** Makes and stores the decoy of every tenant that lacks a current one; returns their ids. */
export async function ensureDecoyHashes(repos: Repos, tenants: readonly Tenant[]): Promise<string[]> {
  const made: string[] = [];
  for (const tenant of tenants.filter(stale)) {
    // Two nodes starting together may both make one: either is as good, the last one stays.
    await repos.tenants.setDecoyHash(tenant.id, await newDecoyHash(tenant.policy.password.hashing));
    made.push(tenant.id);
  }
  return made;
}

/**
 * Decoys made here for tenants whose stored one is missing or not at the current cost (a tenant
 * written by a tool that made none, a cost changed since the node started): once per tenant and
 * cost on this node, until a node starting stores a current one.
 */
const madeHere = new Map<string, Promise<string>>();

export function decoyHashOf(tenant: Tenant): Promise<string> | string {
  if (!stale(tenant)) return tenant.decoyHash!;
  const params = tenant.policy.password.hashing;
  const key = `${tenant.id}|${params.memoryKiB}/${params.iterations}/${params.parallelism}`;
  let decoy = madeHere.get(key);
  if (!decoy) {
    if (madeHere.size >= 1000) madeHere.clear();
    decoy = newDecoyHash(params);
    madeHere.set(key, decoy);
  }
  return decoy;
}
