import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Algorithm } from "@node-rs/argon2";
import { hashingPool } from "../identity/password/hashing-pool.ts";
import { z } from "zod";
import type { Secrets } from "../shared/crypto/secrets.ts";
import type { PasswordPolicy } from "../tenants/policy.ts";
import { KeystoreError } from "./keystore.ts";

/**
 * Keys under their holder's sole control (EN 419 241-1, SCAL2; the CSC API's "sole control"):
 * the private key of a signing credential is wrapped (AES-256-GCM) under a key that takes two
 * halves: the master key (the server's) and an argon2id hash of the holder's signing password
 * (its own salt). Neither the server nor someone with the database alone can unwrap it; the
 * holder's password, given for each authorisation, unlocks it for the hashes they authorised.
 * The argon2id half is the holder's "share": derived at the authorisation, carried sealed in the
 * SAD, used and dropped.
 */
export const Protection = z
  .object({
    kind: z.literal("password"),
    salt: z.string(),
    memoryKiB: z.number().int(),
    iterations: z.number().int(),
    parallelism: z.number().int(),
  })
  .strict();
export type Protection = z.infer<typeof Protection>;

// The package's `Algorithm` is a const enum, which isolated modules cannot read: its value here.
const ARGON2ID = 2 as Algorithm.Argon2id;
const VERSION = "sc1";

/** A new protection: a fresh salt and the tenant's argon2id cost. */
export function newProtection(hashing: PasswordPolicy["hashing"]): Protection {
  return { kind: "password", salt: randomBytes(16).toString("base64"), ...hashing };
}

export const protectionOf = (stored: string | null): Protection | undefined => (stored === null ? undefined : Protection.parse(JSON.parse(stored)));

/** The holder's half: argon2id of the password with the key's salt and cost (32 bytes). */
export function passwordShare(password: string, protection: Protection): Promise<Buffer> {
  return hashingPool.hashRaw(password, {
    algorithm: ARGON2ID,
    salt: Buffer.from(protection.salt, "base64"),
    memoryCost: protection.memoryKiB,
    timeCost: protection.iterations,
    parallelism: protection.parallelism,
    outputLen: 32,
  });
}

/** The wrapping key: both halves, bound to the key it wraps. */
function wrappingKey(secrets: Secrets, tenantId: string, keyId: string, share: Buffer): Buffer {
  return Buffer.from(secrets.mac(`sole-control:${tenantId}:${keyId}:${share.toString("base64")}`), "base64url");
}

/** Wraps a PKCS#8 private key under the two halves: `sc1.<iv>.<ciphertext>.<tag>`. */
export function wrapPrivateKey(secrets: Secrets, key: { tenantId: string; id: string }, pkcs8: Buffer, share: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", wrappingKey(secrets, key.tenantId, key.id, share), iv);
  const body = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  return [VERSION, iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
}

/** The PKCS#8 key, if `share` is its holder's; a wrong password is a KeystoreError. */
export function unwrapPrivateKey(secrets: Secrets, key: { tenantId: string; id: string }, wrapped: string, share: Buffer): Buffer {
  const [version, iv, body, tag] = wrapped.split(".");
  if (version !== VERSION || !iv || body === undefined || !tag) throw new KeystoreError("not a key under sole control");
  try {
    const decipher = createDecipheriv("aes-256-gcm", wrappingKey(secrets, key.tenantId, key.id, share), Buffer.from(iv, "base64url"), { authTagLength: 16 });
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]);
  } catch {
    throw new KeystoreError("the signing password does not unlock this key");
  }
}
