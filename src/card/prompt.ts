import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { CardError } from "./errors.ts";

/** Asks the person at the desktop for a password or a one-time code. */
export interface Prompter {
  ask(question: string, options?: { secret?: boolean; timeoutMs?: number }): Promise<string>;
  /** No more questions: standard input is let go (it would keep the process alive). */
  close(): void;
}

const cancelled = (why: string) => new CardError("refused", why);

/**
 * Questions on the terminal: the answer is the next line of standard input (typed without echo
 * when it is a terminal and the answer is secret). One question at a time, in the order asked.
 */
export function terminalPrompter(input: NodeJS.ReadStream | NodeJS.ReadableStream, output: NodeJS.WritableStream): Prompter {
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let ended = false;
  const reader = createInterface({ input, terminal: false });
  reader.on("line", (line) => (waiting.length > 0 ? waiting.shift()!(line) : lines.push(line)));
  reader.on("close", () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  const tty = input as NodeJS.ReadStream;
  let queue = Promise.resolve();

  return {
    ask(question, options = {}) {
      const answer = queue.then(
        () =>
          new Promise<string>((resolve, reject) => {
            // On a terminal, what was typed before the question is not its answer (a code typed
            // for an earlier question, a stray line); piped input is taken in order.
            if (tty.isTTY === true) lines.length = 0;
            output.write(question);
            // A secret typed at a terminal is not shown: the terminal's echo off (stty) while it is typed.
            const echoOff = options.secret === true && tty.isTTY === true && lines.length === 0;
            if (echoOff) spawnSync("stty", ["-echo"], { stdio: ["inherit", "ignore", "ignore"] });
            if (lines.length > 0) return resolve(lines.shift()!);
            if (ended) return reject(cancelled("No answer: standard input is closed"));
            let timer: NodeJS.Timeout | undefined;
            const take = (line: string | undefined) => {
              clearTimeout(timer);
              if (echoOff) {
                spawnSync("stty", ["echo"], { stdio: ["inherit", "ignore", "ignore"] });
                output.write("\n");
              }
              if (line === undefined) reject(cancelled("No answer: standard input is closed"));
              else resolve(line);
            };
            waiting.push(take);
            if (options.timeoutMs) {
              timer = setTimeout(() => {
                waiting.splice(waiting.indexOf(take), 1);
                if (echoOff) spawnSync("stty", ["echo"], { stdio: ["inherit", "ignore", "ignore"] });
                output.write("\n");
                reject(cancelled("No answer in time"));
              }, options.timeoutMs);
            }
          }),
      );
      queue = answer.then(
        () => undefined,
        () => undefined,
      );
      return answer.then((line) => line.trim());
    },
    close: () => reader.close(),
  };
}

/**
 * Questions through a program of the desktop's (`--ask-command`, e.g. `zenity --entry
 * --hide-text`): it gets the question in TESSERA_PROMPT and prints the answer; a non-zero exit
 * is a refusal. For a daemon started without a terminal.
 */
export function commandPrompter(command: string): Prompter {
  return {
    ask(question, options = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn("/bin/sh", ["-c", command], { env: { ...process.env, TESSERA_PROMPT: question.trim(), TESSERA_SECRET: options.secret ? "1" : "0" }, stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGTERM"), options.timeoutMs) : undefined;
        child.on("error", (error) => reject(cancelled(`The question could not be asked: ${error.message}`)));
        child.on("exit", (code) => {
          clearTimeout(timer);
          if (code === 0) resolve(out.split("\n")[0]!.trim());
          else reject(cancelled("The question was not answered"));
        });
      });
    },
    close: () => undefined,
  };
}
