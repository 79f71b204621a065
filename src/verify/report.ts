/** What `relup verify` finds, per stateful update: the shapes passed from the worker and printed by the CLI. */
import type { ZodIssueLike } from "./zod-arbitrary.ts";
import type { CheckName } from "./check-migration.ts";
import { ABSENT, type StateDifference } from "./state-diff.ts";

/** One stateful update of the plan to verify: a server module whose processes the plan migrates. */
export interface VerifySubject {
  module: string;
  /** advanced: the plan migrates the state with codeChange; soft: the state is kept as it is */
  change: "advanced" | "soft";
  oldVsn: string | number;
  newVsn: string | number;
  extra: unknown;
}

export interface ReportedFailure {
  /**
   * which property found it: states of the old version up and back (advanced) or kept by the new code
   * (soft, "up"); states of the new version down (migrated, or kept by the old code); a live state
   */
  property: "up-and-back" | "up" | "down" | "live";
  check: CheckName;
  direction: "up" | "down";
  message: string;
  /** the failing state, shrunk to a minimal one by fast-check, printed with util.inspect */
  counterexample: string;
  /** what codeChange returned for it, when it returned */
  result?: string;
  issues?: ZodIssueLike[];
  difference?: { path: string; expected: string; actual: string };
  /** how fast-check found it: the seed and path replay it */
  seed?: number;
  path?: string;
  shrinks?: number;
  /** live: the process whose state failed */
  pid?: string;
  name?: string | null;
}

export type ModuleStatus = "verified" | "failed" | "unverified" | "error";

export interface ModuleVerification extends VerifySubject {
  status: ModuleStatus;
  /** unverified or error: why, and what to do */
  reason?: string;
  /** states checked per property (property tests: up and back or up, and down), and live states checked */
  runs: { upAndBack: number; up: number; down: number; live: number };
  lossy: boolean;
  failures: ReportedFailure[];
  ms: number;
}

export interface VerifyReport {
  release: string;
  from: string;
  to: string;
  mode: "properties" | "live";
  seed: number;
  runs: number;
  timeLimitMs: number;
  modules: ModuleVerification[];
  /** live: processes whose state could not be copied out of the node, and why */
  uncopyable: { pid: string; module: string; reason: string }[];
  ms: number;
}

export function formatDifference(d: StateDifference, inspect: (v: unknown) => string): { path: string; expected: string; actual: string } {
  const text = (value: unknown) => (value === ABSENT ? "(absent)" : inspect(value));
  return { path: d.path, expected: text(d.expected), actual: text(d.actual) };
}
