import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/setup/postgres.ts"],
    // Spawned servers and real databases: give slow CI machines room, but fail rather than hang.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
