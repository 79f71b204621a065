/**
 * ROOT/releases/RELEASES: which releases a root holds and their status, as OTP's release_handler keeps
 * them. Written atomically: a temporary file, fsync, rename over the old one, fsync of the directory, so
 * that a crash at any moment leaves either the old or the new file, never a torn one. An install stages
 * it before its first step and renames it after its last (staged-file.ts).
 *
 *   unpacked   on disk, not running
 *   permanent  what the node boots; exactly one
 *   old        was permanent before
 * `current` (installed, not yet permanent) is never written, as in OTP: a node that restarts boots the
 * permanent release, so an upgrade that was not made permanent is undone by a restart.
 */
import { existsSync } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ReleaseError } from "../release/issues.ts";
import { AppName, Sha256, Version } from "../release/names.ts";
import { mkdirFixed, toJsonText } from "../release/fs-utils.ts";
import { parseJsonFile } from "../release/parse-json-file.ts";
import { readTarget, type ReadTarget } from "./prepare-release.ts";
import { stageFiles } from "./staged-file.ts";

export const ReleasesFile = z
  .object({
    format: z.literal(1),
    name: AppName,
    releases: z.array(z.object({ version: Version, status: z.enum(["unpacked", "permanent", "old"]), identity: Sha256 }).strict()),
  })
  .strict()
  .describe("RELEASES: the releases of a release root and their status");
export type ReleasesFile = z.infer<typeof ReleasesFile>;

export function releasesDir(root: string): string {
  return path.join(root, "releases");
}

export function releaseDirOf(root: string, version: string): string {
  return path.join(releasesDir(root), version);
}

export function releasesFilePath(root: string): string {
  return path.join(releasesDir(root), "RELEASES");
}

export async function readReleasesFile(root: string): Promise<ReleasesFile | undefined> {
  const file = releasesFilePath(root);
  if (!existsSync(file)) return undefined;
  const parsed = parseJsonFile(file, await readFile(file, "utf8"), ReleasesFile);
  if (!parsed.ok) throw new ReleaseError(parsed.issues);
  return parsed.value;
}

export async function writeReleasesFile(root: string, data: ReleasesFile): Promise<void> {
  await mkdirFixed(releasesDir(root));
  await (await stageFiles([releasesFileText(root, data)])).commit();
}

/** RELEASES as an install stages it (see staged-file.ts): its path and its text, checked against the schema. */
export function releasesFileText(root: string, data: ReleasesFile): { file: string; text: string } {
  return { file: releasesFilePath(root), text: toJsonText(ReleasesFile.parse(data)) };
}

/** How a release is read: a directory in place, or a tarball extracted `into` a new directory (readTarget, or the node's release reader). */
export type ReadRelease = (source: string, into?: string) => Promise<ReadTarget>;

/**
 * Unpack `source` into `releases/<version>` of the root through the safe reader: it is read into a fresh
 * folder of the root, `keep` looks at it (and may refuse it by throwing, or leave it out by returning
 * false), and only then is it renamed into place (`placed`). What is not kept is removed. `read` is how
 * (a node passes its release reader, which does it off the event loop).
 */
export async function unpackIntoRoot(root: string, source: string, keep: (loaded: ReadTarget) => boolean | "same-build", read: ReadRelease = readTarget): Promise<{ loaded: ReadTarget; kept: boolean; placed: boolean; orphan?: string; replanned?: boolean }> {
  await mkdirFixed(releasesDir(root));
  const incoming = path.join(releasesDir(root), `.incoming-${process.pid}-${Date.now()}`);
  try {
    const loaded = await read(source, incoming);
    const verdict = keep(loaded);
    const target = releaseDirOf(root, loaded.release.version);
    if (verdict === "same-build") return { loaded: { ...loaded, dir: target }, kept: false, placed: false, replanned: await replan(incoming, target) };
    const kept = verdict;
    // `keep` said RELEASES does not list this version, yet its directory is there: an unpack that
    // crashed between its rename and its RELEASES write. It is reused if it is this very build, else replaced.
    const orphan = kept && existsSync(target) ? await settleOrphan(target, loaded, read) : undefined;
    const placed = kept && orphan?.reused !== true;
    if (placed) await rename(incoming, target);
    return { loaded: { ...loaded, dir: kept ? target : loaded.dir }, kept, placed, ...(orphan ? { orphan: orphan.note } : {}) };
  } finally {
    await rm(incoming, { recursive: true, force: true });
  }
}

/**
 * The same build unpacked again (same identity: same code, config and packages) may ship other plans:
 * its release.json then differs, and the directory in the root is replaced by the new one, so that
 * `apply` and a rollback find the plans the release ships now. Nothing else in it can differ.
 */
async function replan(incoming: string, target: string): Promise<boolean> {
  const [fresh, held] = await Promise.all([readFile(path.join(incoming, "release.json"), "utf8"), readFile(path.join(target, "release.json"), "utf8").catch(() => "")]);
  if (fresh === held) return false;
  const old = `${target}.replaced-${process.pid}`;
  await rename(target, old);
  await rename(incoming, target);
  await rm(old, { recursive: true, force: true });
  return true;
}

/** Check a leftover `releases/<vsn>` with the safe reader: keep it if it is `loaded`'s build, else remove it. */
async function settleOrphan(target: string, loaded: ReadTarget, read: ReadRelease): Promise<{ reused: boolean; note: string }> {
  const where = `${target} was left by an unpack that did not finish (RELEASES does not list it)`;
  let found: string;
  try {
    const existing = await read(target);
    if (existing.release.name === loaded.release.name && existing.identity === loaded.identity) return { reused: true, note: `${where}; it verifies as this same build (identity ${loaded.identity.slice(0, 12)}…) and is reused` };
    found = `it is another build (${existing.release.name} ${existing.release.version}, identity ${existing.identity.slice(0, 12)}…)`;
  } catch (error) {
    found = `it does not verify (${(error as Error).message.split("\n")[0]})`;
  }
  await rm(target, { recursive: true, force: true });
  return { reused: false, note: `${where}; ${found}, so it was replaced` };
}
