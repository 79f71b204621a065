/**
 * One property of a module's verification: states generated from one version's schema (seeded with
 * live values under `--live`), each checked by `check`. fast-check shrinks the first failing state.
 */
import fc from "fast-check";
import type { Seeds } from "./live-seeds.ts";
import type { ReportedFailure } from "./report.ts";
import { reported } from "./report-failure.ts";
import { arbitraryOf, REJECTED, UnsupportedSchemaError, type ZodLike } from "./zod-arbitrary.ts";

export interface Property {
  name: ReportedFailure["property"];
  /** the schema states are generated from, and whose version it is */
  schema: ZodLike;
  side: "old" | "new";
  version: string;
  check: (state: unknown) => Promise<void> | void;
  seeds?: Seeds;
}

export type PropertyOutcome = { runs: number; failure?: ReportedFailure } | { error: string };

export async function runProperty(property: Property, options: { runs: number; seed: number }, checking: (state: unknown) => void): Promise<PropertyOutcome> {
  let arbitrary: fc.Arbitrary<unknown>;
  try {
    arbitrary = arbitraryOf(property.schema, property.seeds);
  } catch (error) {
    const message = error instanceof UnsupportedSchemaError ? error.message : `stateSchema: cannot generate states from it (${(error as Error).message})`;
    return { error: `${property.version}: ${message}` };
  }
  let details: Awaited<ReturnType<typeof fc.check<[unknown]>>>;
  try {
    details = await fc.check(
      fc.asyncProperty(arbitrary, async (state) => {
        fc.pre(state !== REJECTED);
        checking(state);
        await property.check(state);
      }),
      { numRuns: options.runs, seed: options.seed },
    );
  } catch (error) {
    return { error: `${property.version}: could not generate states from stateSchema: ${(error as Error).message}` };
  }
  if (!details.failed) return { runs: details.numRuns };
  if (details.counterexample === null) {
    return { error: `could not generate states from the ${property.side} stateSchema (its refinements reject almost every value). Fix: describe the state with structural schemas rather than refine().` };
  }
  const [counterexample] = details.counterexample;
  const failure = reported(property.name, details.errorInstance, counterexample);
  return { runs: details.numRuns, failure: { ...failure, seed: details.seed, path: details.counterexamplePath, shrinks: details.numShrinks } };
}
