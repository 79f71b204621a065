/**
 * Once per test run, before any test file: relup's sources compiled for the processes and worker threads
 * the tests start (test/setup/compiled-sources.ts). In watch mode they are compiled again before each
 * rerun, since a rerun may follow an edit of the sources.
 */
import path from "node:path";
import type { TestProject } from "vitest/node";
import { compileSources } from "./compiled-sources.ts";

const REPO = path.join(import.meta.dirname, "..", "..");

export default async function setup(project: TestProject): Promise<void> {
  process.env.RELUP_COMPILED_SOURCES = await compileSources(REPO);
  project.onTestsRerun(async () => {
    process.env.RELUP_COMPILED_SOURCES = await compileSources(REPO);
  });
}
