import { z } from "zod";
import type { PkiKeyRow } from "../store/repos/pki.ts";
import { digestLength, isRsa, type KeyAlgorithm, type Mechanism } from "./algorithms.ts";
import type { Protection } from "./sole-control.ts";

/** The holder a credential's key is made for: their password share and its protection (salt, cost). */
export interface SoleOwner {
  share: Buffer;
  protection: Protection;
}

/**
 * Where a tenant's private keys live, behind one small interface: a software keystore (private
 * keys sealed under the master key, in the database) or a PKCS#11 token (an HSM; SoftHSM2 in the
 * tests). Everything that signs (certificates, CRLs, OCSP, time-stamps, remote signatures) asks a
 * keystore to sign a digest, never holds a private key itself.
 */
export interface Keystore {
  readonly kind: KeystoreKind;
  /**
   * A new key pair; the row is the caller's to store (the key is usable once it is). With `owner`,
   * a signing credential's key under its holder's sole control: the software keystore wraps it
   * under the holder's password share too (sole-control.ts); a token keeps it as a token object,
   * which the caller uses only after checking the holder's authorisation (SAD).
   */
  generate(tenantId: string, algorithm: KeyAlgorithm, owner?: SoleOwner): Promise<PkiKeyRow>;
  /**
   * Signs `digest` (of `mechanism.hash`) with the key. RSA signatures come as the key's raw
   * signature block, ECDSA signatures as DER (Ecdsa-Sig-Value), as X.509 and CMS carry them. A key
   * under sole control signs only with `unlock`, its holder's password share.
   */
  sign(key: PkiKeyRow, digest: Uint8Array, mechanism: Mechanism, unlock?: Buffer): Promise<Buffer>;
  /** The public key as the keystore holds it (SubjectPublicKeyInfo, DER). */
  publicKey(key: PkiKeyRow): Promise<Buffer>;
  /** Destroys the private key where it lives (the token object; the sealed copy is the row's). */
  destroy(key: PkiKeyRow): Promise<void>;
}

export const KEYSTORE_KINDS = ["software", "pkcs11"] as const;
export type KeystoreKind = (typeof KEYSTORE_KINDS)[number];

/**
 * A tenant's choice of keystore (its policy's `pki.keystore`). The PKCS#11 user PIN is never in
 * the policy: it names the environment variable or the file that holds it.
 */
export const KeystoreConfig = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("software") }).strict(),
  z
    .object({
      kind: z.literal("pkcs11"),
      /** The PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so. */
      module: z.string().min(1).max(500),
      /** The token's label (CKA_LABEL of the token info). */
      tokenLabel: z.string().min(1).max(32),
      /** An environment variable holding the user PIN. */
      pinEnv: z.string().regex(/^[A-Z_][A-Z0-9_]{0,63}$/, "must be an environment variable name").optional(),
      /** A file holding the user PIN (its first line). */
      pinFile: z.string().min(1).max(500).optional(),
    })
    .strict()
    .refine((c) => Boolean(c.pinEnv) !== Boolean(c.pinFile), "give either pinEnv or pinFile"),
]);
export type KeystoreConfig = z.infer<typeof KeystoreConfig>;

export class KeystoreError extends Error {
  override readonly name = "KeystoreError";
}

/**
 * What every keystore checks before signing: the digest has its hash's length (a PKCS#11 token
 * would sign any bytes) and the mechanism is one for the key's type.
 */
export function checkSignRequest(key: PkiKeyRow, digest: Uint8Array, mechanism: Mechanism): void {
  if (digest.length !== digestLength(mechanism.hash)) throw new KeystoreError(`a ${mechanism.hash} digest has ${digestLength(mechanism.hash)} bytes, not ${digest.length}`);
  if (isRsa(key.algorithm as KeyAlgorithm) === (mechanism.name === "ECDSA")) throw new KeystoreError(`${mechanism.name} cannot sign with ${key.algorithm} key ${key.id}`);
}
