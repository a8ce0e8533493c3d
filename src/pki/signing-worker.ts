import { constants, createHash, createPrivateKey, type KeyObject, privateEncrypt, randomBytes } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { p256, p384 } from "@noble/curves/nist.js";
import { digestInfo, type HashAlgorithm, type Mechanism } from "./algorithms.ts";

/**
 * A signing worker: the private operation of the software keystore, off the main thread (an
 * RSA-3072 signature takes 2 ms of CPU; the event loop must not wait for it). Keys arrive once per
 * worker as PKCS#8 and stay opened here, bounded.
 */
export interface SignRequest {
  id: number;
  key: string;
  /** Sent the first time this worker is asked to use the key. */
  pkcs8?: Uint8Array;
  digest: Uint8Array;
  mechanism: Mechanism;
  /** Open the key for this signature only, and keep nothing (a key under its holder's sole control). */
  once?: boolean;
}
export type SignResponse = { id: number; signature: Uint8Array } | { id: number; error: string };

type OpenedKey = { kind: "rsa"; key: KeyObject; modulusBits: number } | { kind: "ec"; scalar: Uint8Array; curve: typeof p256 };

const KEYS_MAX = 1000;
const opened = new Map<string, OpenedKey>();

function open(pkcs8: Uint8Array): OpenedKey {
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" });
  if (key.asymmetricKeyType === "rsa") return { kind: "rsa", key, modulusBits: key.asymmetricKeyDetails!.modulusLength! };
  const jwk = key.export({ format: "jwk" });
  return { kind: "ec", scalar: Buffer.from(jwk.d!, "base64url"), curve: jwk.crv === "P-384" ? p384 : p256 };
}

/**
 * RSA signs a digest natively (the private operation on the DigestInfo, or on the PSS encoding);
 * OpenSSL cannot sign a bare digest with an EC key, so ECDSA over a digest is @noble/curves'
 * (RFC 6979 nonces), DER-encoded.
 */
export function signDigest(key: OpenedKey, digest: Uint8Array, mechanism: Mechanism): Buffer {
  if (key.kind === "ec") {
    if (mechanism.name !== "ECDSA") throw new Error(`${mechanism.name} needs an RSA key`);
    // prehash: false: the digest is signed as given (bits2int truncates a longer one, FIPS 186-5).
    return Buffer.from(key.curve.sign(digest, key.scalar, { prehash: false, format: "der" }));
  }
  if (mechanism.name === "ECDSA") throw new Error("ECDSA needs an EC key");
  if (mechanism.name === "RSA-PKCS1") return privateEncrypt({ key: key.key, padding: constants.RSA_PKCS1_PADDING }, digestInfo(mechanism.hash, digest));
  return privateEncrypt({ key: key.key, padding: constants.RSA_NO_PADDING }, emsaPss(digest, mechanism, key.modulusBits));
}

/**
 * EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with MGF1 over the same hash, left-padded to the modulus
 * length for the raw RSA operation. Node signs PSS only over whole messages; CSC clients and
 * PKCS#11 hand over digests.
 */
function emsaPss(mHash: Uint8Array, mechanism: { hash: HashAlgorithm; saltLength: number }, modulusBits: number): Buffer {
  const algorithm = mechanism.hash.replace("-", "").toLowerCase();
  const hLen = mHash.length;
  const sLen = mechanism.saltLength;
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) throw new Error("salt too long for this key");
  const salt = randomBytes(sLen);
  const h = createHash(algorithm).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(algorithm, h, emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  return Buffer.concat([Buffer.alloc(Math.ceil(modulusBits / 8) - emLen), em]);
}

function mgf1(algorithm: string, seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * seed.length < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash(algorithm).update(seed).update(c).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

parentPort?.on("message", (request: SignRequest) => {
  try {
    if (request.once) {
      if (!request.pkcs8) throw new Error("a key for one signature comes with the request");
      parentPort!.postMessage({ id: request.id, signature: signDigest(open(request.pkcs8), request.digest, request.mechanism) } satisfies SignResponse);
      return;
    }
    let key = opened.get(request.key);
    if (!key) {
      if (!request.pkcs8) throw new Error(`key ${request.key} was never sent to this worker`);
      key = open(request.pkcs8);
      if (opened.size >= KEYS_MAX) opened.delete(opened.keys().next().value!);
      opened.set(request.key, key);
    }
    const signature = signDigest(key, request.digest, request.mechanism);
    parentPort!.postMessage({ id: request.id, signature } satisfies SignResponse);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).message } satisfies SignResponse);
  }
});
