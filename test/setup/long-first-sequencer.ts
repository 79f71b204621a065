/**
 * The order test files start in: the few that take longest first, so that the workers end together
 * instead of one of them starting a long file near the end. vitest orders by the durations of the last
 * run when it has them, and by file size on a fresh clone (where these would start late).
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Longest first: end-to-end runs of npm and the README, and files that start many nodes or wait on limits. */
const LONG_FIRST = [
  "test/readme-try-it.test.ts",
  "test/package-install.test.ts",
  "test/verify/verify.test.ts",
  "test/runtime/restart-and-kill.test.ts",
  "test/ci-workflow.test.ts",
  "test/runtime/boot-timeout.test.ts",
  "test/verify/verify-time-limit.test.ts",
  "test/runtime/unbootable-root.test.ts",
  "test/runtime/apply-faults.test.ts",
];

export class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = LONG_FIRST.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
      return i < 0 ? LONG_FIRST.length : i;
    };
    return sorted.map((spec, i) => ({ spec, i })).sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i).map(({ spec }) => spec);
  }
}
