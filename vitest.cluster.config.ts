import { defineConfig } from "vitest/config";

/**
 * `npm run test:cluster`: several nodes behind HAProxy under faults and overload
 * (test/resilience/). One file at a time, after the other tests: it stops and starts the
 * machine's PostgreSQL and Redis.
 */
export default defineConfig({
  test: {
    include: ["test/resilience/**/*.test.ts"],
    globalSetup: ["test/setup/postgres.ts"],
    fileParallelism: false,
    testTimeout: 15 * 60_000,
    hookTimeout: 5 * 60_000,
    pool: "forks",
  },
});
