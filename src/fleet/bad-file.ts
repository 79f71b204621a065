/** A JSON file of the fleet's that parseJsonFile refused, as a fleet issue naming the file and field. */
import { formatReleaseIssue, type ReleaseIssue } from "../release/issues.ts";
import type { FleetIssue } from "./issues.ts";

export function badFile(file: string, issue: ReleaseIssue, fix: string): FleetIssue {
  if (issue.code === "invalid-field") return { code: "bad-file", file, field: issue.field, detail: issue.detail, fix: issue.fix ?? fix };
  if (issue.code === "invalid-json") return { code: "bad-file", file, detail: `is not valid JSON (${issue.detail})`, fix };
  // parseJsonFile makes no other issue; worded whole should it ever.
  return { code: "bad-file", file, detail: formatReleaseIssue(issue), fix };
}
