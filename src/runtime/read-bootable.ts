/**
 * What a node boots: the permanent release of ROOT/releases/RELEASES, checked before every (re)start.
 * A RELEASES that cannot be read or is invalid, that names no permanent release, or whose permanent
 * release is not on disk cannot boot anything: the error names the file, the problem and the fix, and is
 * bad input (exit 2), since nothing but an operator's repair can help (a restart loop cannot).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { ExitCode, UserError } from "../errors.ts";
import { readReleasesFile, releaseDirOf, releasesDir, type ReleasesFile } from "./releases-file.ts";
import { assertRootTrusted } from "./root-trust.ts";

export class UnbootableRoot extends UserError {
  override readonly name = "UnbootableRoot";
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${file}: ${problem}. Fix: ${fix}`, ExitCode.badInput);
  }
}

/** The root's RELEASES and the version to boot; undefined when the root holds no RELEASES at all. */
export async function readBootable(root: string): Promise<{ releases: ReleasesFile; version: string } | undefined> {
  const file = path.join(releasesDir(root), "RELEASES");
  let releases: ReleasesFile | undefined;
  try {
    releases = await readReleasesFile(root);
  } catch (error) {
    const reason = error instanceof UserError ? error.message : (error as Error).message;
    throw new UnbootableRoot(file, `cannot be read or is invalid (${reason.replaceAll("\n", "; ")})`, `restore it from a backup, or rewrite it by hand: one entry per directory of ${releasesDir(root)} with its identity, exactly one "permanent" (see docs/runtime.md)`);
  }
  if (!releases) return undefined;
  const permanent = releases.releases.filter((r) => r.status === "permanent");
  if (permanent.length !== 1) {
    const listed = releases.releases.map((r) => `${r.version} (${r.status})`).join(", ") || "none";
    throw new UnbootableRoot(file, `names ${permanent.length === 0 ? "no" : permanent.length} permanent release${permanent.length === 0 ? "" : "s"} (it lists ${listed}); a node boots exactly one`, `set "status": "permanent" on the one release to boot (and "old" on any other that was), then start again`);
  }
  const version = permanent[0]!.version;
  const dir = releaseDirOf(root, version);
  if (!existsSync(dir)) {
    throw new UnbootableRoot(file, `names ${releases.name} ${version} as its permanent release, but ${dir} does not exist`, `unpack that release again into the root (relup start <its tarball> on a copy of the root, or restore ${dir} from a backup), or mark another release on disk permanent`);
  }
  return { releases, version };
}

/** The version a launcher boots: as readBootable, in a root it can trust; a root without RELEASES cannot boot either. */
export async function bootVersion(root: string): Promise<string> {
  // Before every (re)start, not only the first: a root made writable by others since would have its
  // releases/ booted as this user.
  assertRootTrusted(root);
  const bootable = await readBootable(root);
  if (!bootable) throw new UnbootableRoot(path.join(releasesDir(root), "RELEASES"), "does not exist, so there is no release to boot", `start the root with its first release: \`relup start <release> --root ${root}\``);
  return bootable.version;
}
