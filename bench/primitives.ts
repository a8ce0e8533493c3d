/**
 * The raw rates of the cryptographic primitives that bound Tessera's operations, measured in the
 * benchmark's own process on the same machine in the same run, so that a figure can be read as a
 * ratio whatever the machine.
 */
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { p256 } from "@noble/curves/nist.js";
import { hashSecret } from "../src/identity/password/hashing.ts";
import { hashingPool } from "../src/identity/password/hashing-pool.ts";
import type { HashingParams } from "../src/identity/password/hashing.ts";

/** Runs `one` back to back on `lanes` lanes for `seconds`; completions per second. */
async function rate(seconds: number, lanes: number, one: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < end) {
        await one();
        n++;
      }
    }),
  );
  return n / seconds;
}

/**
 * argon2id verifications per second at the given cost, on the password-hashing lanes the server
 * runs them on (identity/password/hashing-pool.ts: a worker thread per core), kept full.
 */
export async function argon2idVerifyRate(seconds: number, params: HashingParams): Promise<{ perSecond: number; lanes: number }> {
  const password = "Quercia-Verde-2026!";
  const phc = await hashSecret(password, params);
  const { lanes } = hashingPool.stats();
  return { perSecond: await rate(seconds, 2 * lanes, () => hashingPool.verify(phc, password)), lanes };
}

/** ES256 (P-256, SHA-256) signatures per second on one thread, over a JWT-sized input. */
export function es256Rate(seconds: number): number {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const input = Buffer.from(`${"e".repeat(36)}.${"p".repeat(300)}`);
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) sign("sha256", input, { key: privateKey, dsaEncoding: "ieee-p1363" });
    n += 50;
  }
  return n / seconds;
}

/** A SignedInfo-sized input: what an assertion's signature covers. */
const SIGNED_INFO = Buffer.from("s".repeat(900));

/** RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second on one thread. */
export function rsa2048Rate(seconds: number): number {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) sign("sha256", SIGNED_INFO, privateKey);
    n += 20;
  }
  return n / seconds;
}

/** The same on libuv's thread pool, as many in flight as it has threads (every core): where Tessera signs. */
export function rsa2048PoolRate(seconds: number): Promise<number> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const one = () => new Promise<void>((resolve, reject) => sign("sha256", SIGNED_INFO, privateKey, (e) => (e ? reject(e) : resolve())));
  return rate(seconds, Number(process.env.UV_THREADPOOL_SIZE ?? 4), one);
}

/**
 * RSA-3072 PKCS#1 v1.5 SHA-256 signatures per second on one thread: the demo CAs' issuing and
 * OCSP keys (software keystore), which sign certificates, CRLs and OCSP responses.
 */
export function rsa3072Rate(seconds: number): number {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 3072 });
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 10; i++) sign("sha256", SIGNED_INFO, privateKey);
    n += 10;
  }
  return n / seconds;
}

/**
 * P-256 signatures over a SHA-256 digest per second on one thread, as the signing workers make a
 * credential's (CSC signHash): @noble/curves with RFC 6979 nonces, DER out.
 */
export function p256DigestRate(seconds: number): number {
  const secret = p256.utils.randomSecretKey();
  const digest = createHash("sha256").update("document").digest();
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) p256.sign(digest, secret, { prehash: false, format: "der" });
    n += 20;
  }
  return n / seconds;
}
