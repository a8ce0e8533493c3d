/** What a command may touch of its process: injected so that tests run commands in-process. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Shared by a command and the runner: the exit code the command wants. */
export interface ExitStatus {
  code: number;
}
