/**
 * An error of a job of the release reader's thread, as data that crosses to the node's thread and back
 * into the same error: a ReleaseError with its issues, a RuntimeError with its issue, anything else as
 * an Error with its message (and errno code), so that a refusal reads exactly as it did when the node
 * read releases on its own thread.
 */
import { assertNever } from "../errors.ts";
import { ReleaseError, type ReleaseIssue } from "../release/issues.ts";
import { RuntimeError } from "./issues/runtime-error.ts";
import type { RuntimeIssue } from "./issues/runtime-issue.ts";

export type ReaderError = { type: "release"; issues: ReleaseIssue[] } | { type: "runtime"; issue: RuntimeIssue } | { type: "error"; message: string; code?: string };

export function toReaderError(error: unknown): ReaderError {
  if (error instanceof ReleaseError) return { type: "release", issues: [...error.issues] };
  if (error instanceof RuntimeError) return { type: "runtime", issue: error.issue };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return { type: "error", message: error instanceof Error ? error.message : String(error), ...(typeof code === "string" ? { code } : {}) };
}

export function fromReaderError(error: ReaderError): Error {
  switch (error.type) {
    case "release":
      return new ReleaseError(error.issues);
    case "runtime":
      return new RuntimeError(error.issue);
    case "error":
      return Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code });
    default:
      return assertNever(error);
  }
}
