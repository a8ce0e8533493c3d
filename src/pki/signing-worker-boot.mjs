// The entry of a signing worker (signing-pool.ts): worker threads start without the TypeScript
// loader the process registered, so each registers its own before loading the worker module.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
