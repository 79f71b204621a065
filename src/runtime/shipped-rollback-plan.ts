/**
 * The way back for a node that booted its release with no install record (a restart, a new launcher):
 * a plan shipped in the running release (`plans/<from>-<current>.json`) from a release the root still
 * holds, as the root recorded it (same identity). A release ships one plan per version it upgrades from;
 * the one wanted is from the release the node came from: the last one that was permanent before it
 * ("old" in RELEASES), else the newest one held.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import semver from "semver";
import { RelupFile } from "../relup/instruction.ts";
import { listShippedPlans } from "../relup/list-shipped-plans.ts";
import type { ReleasesFile } from "./releases-file.ts";

export async function shippedRollbackPlan(releaseDir: string, current: string, releases: ReleasesFile["releases"]): Promise<RelupFile | undefined> {
  const plans: { plan: RelupFile; old: boolean }[] = [];
  for (const rel of await listShippedPlans(releaseDir)) {
    const parsed = RelupFile.safeParse(parseOrUndefined(await readFile(path.join(releaseDir, rel), "utf8").catch(() => "")));
    if (!parsed.success || parsed.data.to.version !== current) continue;
    const held = releases.find((r) => r.version === parsed.data.from.version);
    if (held && held.identity === parsed.data.from.identity) plans.push({ plan: parsed.data, old: held.status === "old" });
  }
  // Old releases first, then the newest version: the release this one most likely replaced.
  plans.sort((a, b) => Number(b.old) - Number(a.old) || semver.rcompare(a.plan.from.version, b.plan.from.version));
  return plans[0]?.plan;
}

/** A shipped file that is not JSON is no plan (the release's files were checked when it was unpacked). */
function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
