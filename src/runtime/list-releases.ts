/**
 * The releases of a root and their status, for `relup releases`: asked of the running node (which knows
 * which one is current), or, when no node runs there, read from the root's RELEASES file, which records
 * unpacked, permanent and old (nothing is current then).
 */
import semver from "semver";
import { RuntimeError } from "./issues/runtime-error.ts";
import { controlRequest } from "./control-client.ts";
import { assertRootTrusted } from "./root-trust.ts";
import type { ReleaseStatus } from "./release-handler.ts";
import { readReleasesFile, releasesDir } from "./releases-file.ts";
import { nodeIsRunning } from "./start-release.ts";

export interface ListedRelease {
  name: string;
  version: string;
  status: ReleaseStatus;
}

/** Listed oldest version first (RELEASES keeps them in the order they were unpacked). */
export async function listReleases(root: string): Promise<{ running: boolean; releases: ListedRelease[] }> {
  // Whether it asks the node or reads RELEASES, the answer is only as good as the root.
  assertRootTrusted(root);
  const bySemver = (list: ListedRelease[]) => list.sort((a, b) => semver.compare(a.version, b.version));
  if (await nodeIsRunning(root)) return { running: true, releases: bySemver(await controlRequest(root, { cmd: "releases" })) };
  const file = await readReleasesFile(root);
  if (!file) throw new RuntimeError({ kind: "not-a-release-root", root, releasesDir: releasesDir(root) });
  return { running: false, releases: bySemver(file.releases.map((r) => ({ name: file.name, version: r.version, status: r.status }))) };
}
