import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Mechanism } from "./algorithms.ts";
import { KeystoreError } from "./keystore.ts";
import type { SignRequest, SignResponse } from "./signing-worker.ts";

/**
 * Worker threads that make the software keystore's signatures, so that a 2 ms RSA operation never
 * holds the event loop, and signatures run on every core at once. One pool per process (like
 * libuv's thread pool), started on first use; an idle worker does not keep the process alive. A key is
 * sent to a worker once and kept there; requests go to the worker with the fewest in flight.
 */
export interface SigningPool {
  /** `once`: the key is opened for this signature and forgotten (a key under sole control is never kept). */
  sign(key: { ref: string; pkcs8: () => Uint8Array; once?: boolean }, digest: Uint8Array, mechanism: Mechanism): Promise<Buffer>;
}

interface Lane {
  worker: Worker;
  pending: Map<number, { resolve(signature: Buffer): void; reject(error: Error): void }>;
  keys: Set<string>;
}

const BOOT = new URL("./signing-worker-boot.mjs", import.meta.url);
const MODULE = new URL("./signing-worker.ts", import.meta.url).href;
const SIZE = Math.max(1, Math.min(4, availableParallelism()));

let lanes: Lane[] | undefined;
let nextId = 0;

function lane(): Lane {
  // The boot registers the TypeScript loader itself; loaders of the parent (--import) are not inherited.
  const worker = new Worker(BOOT, { workerData: { module: MODULE }, execArgv: [] });
  const made: Lane = { worker, pending: new Map(), keys: new Set() };
  worker.on("message", (response: SignResponse) => {
    const waiting = made.pending.get(response.id);
    if (!waiting) return;
    made.pending.delete(response.id);
    if (made.pending.size === 0) worker.unref();
    if ("error" in response) waiting.reject(new KeystoreError(response.error));
    else waiting.resolve(Buffer.from(response.signature));
  });
  // A worker that dies fails what it had in flight; the next request starts another in its place.
  const fail = (error: Error) => {
    for (const waiting of made.pending.values()) waiting.reject(new KeystoreError(`signing worker failed: ${error.message}`));
    made.pending.clear();
    // Once: a worker that fails reports an error and then its exit.
    const at = lanes?.indexOf(made) ?? -1;
    if (at >= 0) lanes![at] = lane();
  };
  worker.on("error", fail);
  worker.on("exit", (code) => {
    if (code !== 0) fail(new Error(`exit ${code}`));
  });
  // After the listeners: adding a "message" listener refs the worker again.
  worker.unref();
  return made;
}

export const signingPool: SigningPool = {
  sign(key, digest, mechanism) {
    lanes ??= Array.from({ length: SIZE }, lane);
    const chosen = lanes.reduce((best, l) => (l.pending.size < best.pending.size ? l : best));
    const id = nextId++;
    const request: SignRequest = key.once
      ? { id, key: key.ref, digest, mechanism, pkcs8: key.pkcs8(), once: true }
      : { id, key: key.ref, digest, mechanism, ...(chosen.keys.has(key.ref) ? {} : { pkcs8: key.pkcs8() }) };
    if (!key.once) chosen.keys.add(key.ref);
    return new Promise<Buffer>((resolve, reject) => {
      // Held while it has work (what waits for a signature keeps the process alive), let go when idle.
      if (chosen.pending.size === 0) chosen.worker.ref();
      chosen.pending.set(id, { resolve, reject });
      chosen.worker.postMessage(request);
    });
  },
};
