/** A runtime failure carrying its issue (cf. PlanError, ReleaseError); the CLI entry chooses its exit code. */
import { ReleaseError } from "../../release/issues.ts";
import { RootTrustError } from "../root-trust.ts";
import { formatRuntimeIssue } from "./format-runtime-issue.ts";
import type { RuntimeIssue } from "./runtime-issue.ts";

export class RuntimeError extends Error {
  override readonly name: string = "RuntimeError";
  /** `context`: where the issue was found when it is not where it is reported (`node` for an answer of the node) */
  constructor(
    readonly issue: RuntimeIssue,
    context?: string,
  ) {
    super(context ? `${context}: ${formatRuntimeIssue(issue)}` : formatRuntimeIssue(issue));
  }
}

/** `error`, thrown while the node handled a request, as the issue its answer carries. */
export function toRuntimeIssue(error: unknown): RuntimeIssue {
  if (error instanceof RuntimeError) return error.issue;
  if (error instanceof ReleaseError) return { kind: "release", issues: [...error.issues] };
  if (error instanceof RootTrustError) return { kind: "root-untrusted", issues: [...error.issues] };
  return { kind: "node-failed", message: error instanceof Error ? error.message : String(error) };
}
