/** What a command may touch of its process: injected so that tests run commands in-process. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where the card commands read answers (passwords, one-time codes); the process's by default. */
  stdin?: NodeJS.ReadableStream;
}

/** Shared by a command and the runner: the exit code the command wants. */
export interface ExitStatus {
  code: number;
}
