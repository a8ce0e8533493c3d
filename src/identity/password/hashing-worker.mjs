// A lane of the password-hashing pool (hashing-pool.ts): one argon2id computation at a time, on
// this worker thread, timed so that the pool can say how busy its lanes are. Plain JavaScript: it
// needs nothing but @node-rs/argon2.
import { performance } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";
import { hashSync, verifySync } from "@node-rs/argon2";

parentPort.on("message", ({ op, secret, phc, options }) => {
  const started = performance.now();
  let reply;
  try {
    reply = { result: op === "verify" ? verifySync(phc, secret) : hashSync(secret, options) };
  } catch (err) {
    reply = { error: err instanceof Error ? err.message : String(err) };
  }
  parentPort.postMessage({ ...reply, ms: performance.now() - started });
});
