/**
 * The plans a release ships (`plans/<from>-<to>.json`), listed by the versions they lead from: OTP's
 * UpFrom list, one file per path. Used where a plan is chosen on a root's unpacked releases (`apply`,
 * the node's rollback); their files were checked when the release was unpacked.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { PLANS_DIR } from "../release/release-file.ts";

/** The shipped plans' paths relative to the release (`plans/…json`), sorted; none when it ships none. */
export async function listShippedPlans(releaseDir: string): Promise<string[]> {
  const entries = await readdir(path.join(releaseDir, PLANS_DIR), { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".json"))
    .map((e) => `${PLANS_DIR}/${e.name}`)
    .sort();
}
