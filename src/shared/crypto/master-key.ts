import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The master key encrypts secrets at rest (TOTP secrets, private keys). It comes from
 * TESSERA_MASTER_KEY or, failing that, from `<data-dir>/master.key`, generated on first start.
 * It is never logged; only a check value derived from it is stored, so that a node started with
 * the wrong key refuses to run instead of writing secrets nobody else can read.
 */
export interface MasterKey {
  readonly key: Buffer;
  readonly source: "environment" | "file" | "generated";
  readonly file: string | undefined;
}

export class MasterKeyError extends Error {
  override readonly name = "MasterKeyError";
}

export const MASTER_KEY_FILE = "master.key";

export function loadMasterKey(fromSettings: string | undefined, dataDir: string): MasterKey {
  if (fromSettings) return { key: Buffer.from(fromSettings, "base64"), source: "environment", file: undefined };

  const file = path.join(dataDir, MASTER_KEY_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    // "wx" fails if the file exists: two nodes starting at once on one data dir keep one key.
    writeFileSync(file, `${randomBytes(32).toString("base64")}\n`, { flag: "wx", mode: 0o600 });
    return { key: readKeyFile(file), source: "generated", file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return { key: readKeyFile(file), source: "file", file };
}

function readKeyFile(file: string): Buffer {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new MasterKeyError(
      `master key file ${file} is accessible to other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`,
    );
  }
  const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
  if (key.length !== 32) throw new MasterKeyError(`master key file ${file} does not hold 32 bytes in base64`);
  return key;
}

/** A value that identifies the key without revealing it (HMAC of a fixed label). */
export function masterKeyCheck(key: Buffer): string {
  return createHmac("sha256", key).update("tessera/master-key-check/v1").digest("base64url").slice(0, 22);
}
