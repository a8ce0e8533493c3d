import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * What the master key is used for, each through a key of its own derived with HKDF (RFC 5869), so
 * that one use can never be turned against another:
 * - `seal`/`open`: AES-256-GCM for secrets at rest (TOTP secrets, message bodies, private keys).
 *   The `context` (e.g. `totp:<factor id>`) is authenticated data: a ciphertext copied into
 *   another row does not decrypt there.
 * - `mac`: HMAC-SHA256 for short codes (one-time codes, recovery codes) that a plain hash would
 *   not protect: a million six-digit codes are hashed in a blink without the key.
 */
export interface Secrets {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
  mac(value: string): string;
  macEquals(value: string, expected: string): boolean;
}

export class SecretError extends Error {
  override readonly name = "SecretError";
}

const VERSION = "v1";

export function createSecrets(masterKey: Buffer): Secrets {
  const derive = (label: string) =>
    Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), `tessera/${label}/${VERSION}`, 32));
  const sealKey = derive("seal");
  const macKey = derive("mac");

  const mac = (value: string) => createHmac("sha256", macKey).update(value).digest("base64url");
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", sealKey, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [VERSION, iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
    },
    open(sealed, context) {
      const [version, iv, body, tag] = sealed.split(".");
      if (version !== VERSION || !iv || body === undefined || !tag) throw new SecretError("not a sealed secret");
      const authTag = Buffer.from(tag, "base64url");
      // GCM accepts tags as short as 4 bytes unless told otherwise, which would make forgery feasible.
      if (authTag.length !== 16) throw new SecretError("sealed secret has a truncated tag");
      try {
        const decipher = createDecipheriv("aes-256-gcm", sealKey, Buffer.from(iv, "base64url"), { authTagLength: 16 });
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(authTag);
        return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
      } catch (cause) {
        throw new SecretError("sealed secret does not open with this key and context", { cause });
      }
    },
    mac,
    macEquals(value, expected) {
      const a = Buffer.from(mac(value));
      const b = Buffer.from(expected);
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}
