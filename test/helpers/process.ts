import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const TESSERA_BIN = fileURLToPath(new URL("../../bin/tessera.js", import.meta.url));

export interface Spawned {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in standard output. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** Runs a command as a real process (the `tessera` binary by default), capturing its output. */
export function spawnProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: boolean } = {}): Spawned {
  const proc = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, CI: "", TESSERA_MASTER_KEY: "", ...options.env },
    stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    // Its own process group, stopped as a whole: `npm start` runs the server as a grandchild,
    // which signalling npm alone would leave running after the test.
    detached: true,
  });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    // A demo start generates the demo CAs' RSA keys: seconds, more on a loaded machine.
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const check = () => {
          const match = out.match(pattern);
          if (match) return resolve(match);
          if (proc.exitCode !== null || Date.now() - started > timeoutMs) {
            return reject(new Error(`no ${pattern} in output (exit ${proc.exitCode})\nstdout:\n${out}\nstderr:\n${err}`));
          }
          setTimeout(check, 50);
        };
        check();
      });
    },
    async stop() {
      if (proc.exitCode === null) {
        try {
          process.kill(-proc.pid!, "SIGTERM");
        } catch {
          proc.kill("SIGTERM");
        }
      }
      return exited;
    },
  };
}

export function spawnTessera(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: boolean } = {}): Spawned {
  return spawnProcess(process.execPath, [TESSERA_BIN, ...args], options);
}

/** Runs `tessera` to completion. */
export async function runTessera(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const p = spawnTessera(args, options);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}
