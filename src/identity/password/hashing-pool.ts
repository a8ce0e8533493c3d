import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { TesseraError } from "../../shared/errors.ts";

/**
 * The worker threads that compute argon2id: a lane per core (at most 8), each one hash at a time,
 * and a queue in front of them in the main thread. Password hashing has lanes of its own, not
 * libuv's thread pool: a sign-in's 20–40 ms of argon2id would otherwise hold up the file reads,
 * DNS look-ups and RSA signatures queued behind it, and more lanes than cores only share the same
 * cores. Each lane times its work, so that the pool can tell how busy it was
 * (`tessera_password_hashing_busy_seconds_total`): saturated, every lane busy all the time, the
 * hash is what bounds sign-ins.
 *
 * Started on first use; an idle pool does not keep the process alive.
 */
type Result = string | boolean | Uint8Array;

interface Job {
  message: { op: "hash" | "hashRaw" | "verify"; secret: string; phc?: string; options?: object };
  resolve(value: Result): void;
  reject(error: Error): void;
}

interface Lane {
  worker: Worker;
  job: Job | undefined;
}

export interface HashingStats {
  /** Lanes, fixed for the process. */
  lanes: number;
  /** Seconds the lanes have spent computing, summed over lanes. */
  busySeconds: number;
  verifications: number;
  hashes: number;
  /** Jobs waiting for a lane now. */
  queued: number;
  /** Jobs refused because the queue would have kept them waiting too long (`limitWait`). */
  refused: number;
}

const LANES = Math.max(1, Math.min(8, availableParallelism()));
const WORKER = new URL("./hashing-worker.mjs", import.meta.url);

let lanes: Lane[] | undefined;
const queue: Job[] = [];
const stats: Omit<HashingStats, "queued"> = { lanes: LANES, busySeconds: 0, verifications: 0, hashes: 0, refused: 0 };
/** Milliseconds a job has lately taken on its lane (a moving average), to foresee a queue's wait. */
let msPerJob: number | undefined;
/** The longest a new job may expect to wait for a lane; 0: no limit. */
let maxWaitMs = 0;

function startLane(): Lane {
  const lane: Lane = { worker: new Worker(WORKER), job: undefined };
  lane.worker.on("message", (reply: { result?: Result; error?: string; ms: number }) => {
    const job = lane.job;
    lane.job = undefined;
    stats.busySeconds += reply.ms / 1000;
    msPerJob = msPerJob === undefined ? reply.ms : msPerJob * 0.9 + reply.ms * 0.1;
    if (job) {
      if (reply.error !== undefined) job.reject(new Error(reply.error));
      else job.resolve(reply.result!);
    }
    dispatch();
  });
  // A lane that dies fails its job; another takes its place.
  const replace = (error: Error) => {
    lane.job?.reject(error);
    lane.job = undefined;
    // Once: a worker that fails reports an error and then its exit.
    const at = lanes?.indexOf(lane) ?? -1;
    if (at >= 0) lanes![at] = startLane();
    dispatch();
  };
  lane.worker.on("error", replace);
  lane.worker.on("exit", (code) => {
    if (code !== 0) replace(new Error(`password hashing worker exited with ${code}`));
  });
  lane.worker.unref();
  return lane;
}

function dispatch(): void {
  lanes ??= Array.from({ length: LANES }, startLane);
  for (const lane of lanes) {
    if (lane.job) continue;
    const job = queue.shift();
    if (!job) break;
    lane.job = job;
    lane.worker.ref();
    lane.worker.postMessage(job.message);
  }
  for (const lane of lanes) if (!lane.job) lane.worker.unref();
}

/** How long a job queued now would wait for a lane, from the queue ahead of it. */
function expectedWaitMs(): number {
  if (msPerJob === undefined || queue.length < LANES) return 0;
  return Math.floor(queue.length / LANES) * msPerJob;
}

function run<T extends Result>(message: Job["message"]): Promise<T> {
  const wait = expectedWaitMs();
  if (maxWaitMs > 0 && wait > maxWaitMs) {
    // Overloaded: saying so now (503, try again shortly) beats a sign-in that times out in a
    // queue growing faster than the lanes empty it. Nothing has been done yet, so nothing is
    // half-written, and no failure is counted against the account.
    stats.refused++;
    return Promise.reject(new TesseraError("service.overloaded", `password hashing would wait ${Math.round(wait)} ms`, { status: 503, params: { seconds: Math.max(1, Math.ceil(wait / 1000)) } }));
  }
  return new Promise<T>((resolve, reject) => {
    queue.push({ message, resolve: resolve as Job["resolve"], reject });
    dispatch();
  });
}

export const hashingPool = {
  hash(secret: string, options: object): Promise<string> {
    stats.hashes++;
    return run<string>({ op: "hash", secret, options });
  },
  /** argon2id's raw output (a signing key's share: pki/sole-control.ts). */
  async hashRaw(secret: string, options: object): Promise<Buffer> {
    stats.hashes++;
    return Buffer.from(await run<Uint8Array>({ op: "hashRaw", secret, options }));
  },
  verify(phc: string, secret: string): Promise<boolean> {
    stats.verifications++;
    return run<boolean>({ op: "verify", phc, secret });
  },
  stats(): Readonly<HashingStats> {
    return { ...stats, queued: queue.length };
  },
  /** Refuse jobs that would wait longer than `ms` for a lane (settings: overloadHashingWait); 0 never. */
  limitWait(ms: number): void {
    maxWaitMs = ms;
  },
};
