// A lane of the password-hashing pool (hashing-pool.ts): one argon2id computation at a time (a
// PHC hash, a verification, or raw bytes for a signing key's share), on
// this worker thread, timed so that the pool can say how busy its lanes are. Plain JavaScript: it
// needs nothing but @node-rs/argon2.
import { performance } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";
import { hashRawSync, hashSync, verifySync } from "@node-rs/argon2";

parentPort.on("message", ({ op, secret, phc, options }) => {
  const started = performance.now();
  let reply;
  try {
    const result = op === "verify" ? verifySync(phc, secret) : op === "hashRaw" ? new Uint8Array(hashRawSync(secret, options)) : hashSync(secret, options);
    reply = { result };
  } catch (err) {
    reply = { error: err instanceof Error ? err.message : String(err) };
  }
  parentPort.postMessage({ ...reply, ms: performance.now() - started });
});
