/**
 * The exit code of a failure: the one table that maps a runtime issue's kind to a code (ExitCode: 1 a
 * check or an upgrade failed, 2 bad usage or bad input). Used by the CLI entry (run-cli.ts) alone; errors
 * are made without one.
 */
import { assertNever, ExitCode, UserError } from "../errors.ts";
import { RuntimeError } from "../runtime/issues/runtime-error.ts";
import type { RuntimeIssue } from "../runtime/issues/runtime-issue.ts";

/**
 * 2: what the user gave cannot be read or sent (a release, a request, a root that is not one or holds
 * another release). 1: the node refused the operation (nothing changed), the upgrade failed, or the node
 * cannot be reached or was lost.
 */
export function runtimeExitCode(issue: RuntimeIssue): ExitCode {
  switch (issue.kind) {
    case "release":
    case "root-untrusted":
    case "bad-json":
    case "bad-request":
    case "request-too-deep":
    case "request-too-large":
    case "not-a-release-root":
    case "no-release-in-root":
    case "already-permanent":
    case "empty-root":
      return ExitCode.badInput;
    case "wrong-release":
    case "existing-release":
    case "no-such-release":
    case "stale-plan":
    case "bad-plan":
    case "plan-meaning":
    case "old-processes":
    case "restart-not-allowed":
    case "bad-status":
    case "release-in-use":
    case "no-plan":
    case "no-releases":
    case "disk-full":
    case "unwritable":
    case "record-failed":
    case "install-failed":
    case "barrier-aborted":
    case "no-barrier":
    case "barrier-held":
    case "node-failed":
    case "no-node":
    case "node-lost":
    case "no-answer":
    case "bad-answer":
    case "node-died":
    case "launcher-did-not-stop":
      return ExitCode.checkFailed;
    default:
      return assertNever(issue);
  }
}

/** The exit code of an error the CLI caught: a runtime issue's by the table, another expected failure's its own; undefined for a bug. */
export function exitCodeOf(error: unknown): ExitCode | undefined {
  if (error instanceof RuntimeError) return runtimeExitCode(error.issue);
  if (error instanceof UserError) return error.exitCode;
  return undefined;
}
