import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The resilience suite runs on its own (vitest.cluster.config.ts): it restarts the
    // machine's PostgreSQL and Redis, which the other tests use.
    exclude: ["test/resilience/**", "**/node_modules/**"],
    globalSetup: ["test/setup/postgres.ts"],
    // Spawned servers and real databases: give slow CI machines room, but fail rather than hang.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
