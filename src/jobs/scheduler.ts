import { randomUUID } from "node:crypto";
import type { Clock } from "../shared/clock.ts";
import type { Repos } from "../store/repos/index.ts";

/**
 * Runs periodic jobs on this node. Every node runs the same jobs. Most are written to be
 * idempotent (dedupe keys, conditional deletes), so running them twice changes nothing; a job
 * with `oncePerMs` is also claimed in the database for its period, so that it runs once per period
 * across all nodes (the first node to claim it runs it; a failed run gives its claim back).
 */
export interface Job {
  name: string;
  /** How often this node looks at the job. */
  everyMs: number;
  /** At most one run in each period of this length (counted from the epoch), on any node. */
  oncePerMs?: number;
  run(): Promise<unknown>;
}

export interface SchedulerOptions {
  repos: Repos;
  clock: Clock;
  onError(job: string, err: unknown): void;
}

export interface Scheduler {
  /** Looks at one job now, as a timer would; resolves when its run (if any) has ended. */
  tick(name: string): Promise<void>;
  stop(): Promise<void>;
}

export function startScheduler(jobs: Job[], options: SchedulerOptions): Scheduler {
  const node = randomUUID();
  const running = new Set<Promise<unknown>>();
  const busy = new Set<string>();
  let stopped = false;

  async function runOnce(job: Job): Promise<void> {
    if (!job.oncePerMs) return void (await job.run());
    const period = Math.floor(options.clock.now() / job.oncePerMs);
    if (!(await options.repos.jobRuns.claim(job.name, period, node, options.clock.now()))) return;
    try {
      await job.run();
    } catch (err) {
      await options.repos.jobRuns.release(job.name, period, node);
      throw err;
    }
    await options.repos.jobRuns.finish(job.name, period, options.clock.now());
  }

  function tick(job: Job): Promise<void> {
    if (stopped || busy.has(job.name)) return Promise.resolve();
    busy.add(job.name);
    const run = runOnce(job)
      .catch((err: unknown) => options.onError(job.name, err))
      .finally(() => {
        busy.delete(job.name);
        running.delete(run);
      });
    running.add(run);
    return run;
  }

  const timers = jobs.map((job) => setInterval(() => void tick(job), job.everyMs));
  for (const t of timers) t.unref();
  return {
    tick(name: string) {
      const job = jobs.find((j) => j.name === name);
      if (!job) throw new Error(`no job named ${name}`);
      return tick(job);
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.all(running);
    },
  };
}
