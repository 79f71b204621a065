import os from "node:os";
import { defineConfig } from "vitest/config";
import { LongFirstSequencer } from "./test/setup/long-first-sequencer.ts";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most tests wait on the processes they start (nodes, launchers, the CLI, npm): twice as many test
    // files at once as cores keeps the cores busy (vitest's default is one fewer than the cores: one, on two).
    maxWorkers: Math.max(2, 2 * os.availableParallelism()),
    // A worker runs its files one after another in one module graph: each file does not import relup and
    // its dependencies again (a third of a second of CPU each). Tests leave nothing process-wide behind.
    isolate: false,
    // relup's sources compiled once for the processes and worker threads the tests start
    globalSetup: ["test/setup/global-setup.ts"],
    sequence: { sequencer: LongFirstSequencer },
  },
});
