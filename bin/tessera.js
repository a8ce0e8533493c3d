#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader: there is no build step to forget.
import process from "node:process";
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/cli/main.ts");
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
if (code !== 0) process.exit(code);
