/**
 * The issue for a file or directory that could not be written while unpacking a release. A full disk
 * (ENOSPC) or an exhausted quota (EDQUOT) is not a broken archive: downloading it again would not help.
 */
import type { ReleaseIssue } from "./issues.ts";

const DISK_FULL = new Set(["ENOSPC", "EDQUOT"]);

/** `file` is the release being read; `at` the path that was being written. */
export function writeFailureIssue(error: Error & { code?: string; path?: string }, file: string, at: string): ReleaseIssue {
  const where = error.path ?? at;
  const errno = error.code ?? "unknown";
  if (DISK_FULL.has(errno)) return { code: "disk-full", file, at: where, errno };
  return { code: "unwritable", file, at: where, errno, detail: error.message };
}
