import type { Algorithm } from "@node-rs/argon2";
import type { PasswordPolicy } from "../../tenants/policy.ts";
import { TesseraError } from "../../shared/errors.ts";
import { hashingPool } from "./hashing-pool.ts";

/**
 * argon2id password hashing (RFC 9106) with the tenant's cost parameters, stored as PHC strings
 * (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) so that each hash carries its own parameters.
 * Computed on the password-hashing lanes (hashing-pool.ts), never on the main thread.
 */
export type HashingParams = PasswordPolicy["hashing"];

// The package's `Algorithm` is a const enum, which isolated modules cannot read: its value here.
const ARGON2ID = 2 as Algorithm.Argon2id;

export function hashSecret(secret: string, params: HashingParams): Promise<string> {
  return hashingPool.hash(secret, {
    algorithm: ARGON2ID,
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
  });
}

export async function verifySecret(phc: string, secret: string): Promise<boolean> {
  try {
    return await hashingPool.verify(phc, secret);
  } catch (err) {
    // Overloaded lanes are not a wrong password: the request is refused, nothing counted.
    if (err instanceof TesseraError) throw err;
    // A malformed stored hash never matches; it must not turn into a 500 either.
    return false;
  }
}

/** True when `phc` was made with other parameters than the tenant's current ones. */
export function needsRehash(phc: string, params: HashingParams): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
  if (!match) return true;
  return Number(match[1]) !== params.memoryKiB || Number(match[2]) !== params.iterations || Number(match[3]) !== params.parallelism;
}
