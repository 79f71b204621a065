/** `relup build` as users run it: the release build, with the plan files it ships checked strictly. */
import { buildRelease as buildReleaseOnly, type BuildOptions, type BuildResult } from "../release/build-release.ts";
import { shippedFileIssues, shippedPlanIdentityIssues } from "./shipped-plans.ts";

export function buildRelease(options: Omit<BuildOptions, "checkShipped" | "checkShippedIdentity">): Promise<BuildResult> {
  return buildReleaseOnly({ ...options, checkShipped: shippedFileIssues, checkShippedIdentity: shippedPlanIdentityIssues });
}
