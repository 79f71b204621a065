import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // relup's sources compiled once for the processes and worker threads the tests start
    globalSetup: ["test/setup/global-setup.ts"],
  },
});
