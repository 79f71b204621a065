/** A failure found in the worker, as the report carries it: the state and the result printed, the difference formatted. */
import { inspect } from "node:util";
import { MigrationFailureError } from "./check-migration.ts";
import { formatDifference, type ReportedFailure } from "./report.ts";

export const show = (value: unknown) => inspect(value, { depth: 8, breakLength: 100, maxArrayLength: 30, maxStringLength: 200, compact: 3 });

export function reported(property: ReportedFailure["property"], error: unknown, counterexample: unknown): ReportedFailure {
  if (error instanceof MigrationFailureError) {
    const f = error.failure;
    return {
      property,
      check: f.check,
      direction: f.direction,
      message: f.message,
      counterexample: show(counterexample),
      ...("result" in f ? { result: show(f.result) } : {}),
      ...(f.issues ? { issues: f.issues } : {}),
      ...(f.difference ? { difference: formatDifference(f.difference, show) } : {}),
    };
  }
  return { property, check: "throws", direction: "up", message: `the check itself failed: ${(error as Error)?.message ?? String(error)}`, counterexample: show(counterexample) };
}
