/**
 * The one safe way to read a built release, used by every command that takes one.
 *
 * A tarball is extracted into a fresh temporary directory and checked there; a directory is scanned in
 * place with the same rules. Only when everything checks is the release handed out: moved into
 * `options.into` (renamed, so it appears whole or not at all), or left in its temporary directory until
 * `close()`. Any failure removes what was written and throws a ReleaseError (exit 2) listing every
 * issue; nothing is left on disk.
 */
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rename, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { AppFile } from "./app-file.ts";
import { extractTarball } from "./extract-tarball.ts";
import { writeFailureIssue } from "./write-failure.ts";
import { removeOnInterrupt } from "../interrupt.ts";
import { fsyncDir, mkdirFixed, removeQuietly } from "./fs-utils.ts";
import { ReleaseError } from "./issues.ts";
import { DEFAULT_LIMITS, type ReadLimits } from "./limits.ts";
import { releaseIdentity, type ReleaseFile } from "./release-file.ts";
import { scanDirectory } from "./scan-directory.ts";
import { verifyRelease } from "./verify-release.ts";

export interface ReadReleaseOptions {
  /** move (or copy, for a directory source) the verified release to this path, which must not exist */
  into?: string;
  /** where temporary directories are made; default: next to `into`, else the OS temp directory */
  tempDir?: string;
  limits?: Partial<ReadLimits>;
}

export interface LoadedRelease {
  /** where the verified release is on disk */
  dir: string;
  release: ReleaseFile;
  apps: AppFile[];
  /** the release's identity (release-file.ts): plans carry it to refuse being applied to other builds */
  identity: string;
  /** removes the temporary copy, if one was made; the source and `into` are kept */
  close(): Promise<void>;
}

export async function readRelease(source: string, options: ReadReleaseOptions = {}): Promise<LoadedRelease> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const info = await stat(source).catch(() => undefined);
  if (!info) throw new ReleaseError([{ code: "missing-file", file: source, why: "expected a release directory or a .tar.gz built by `relup build`" }]);
  if (options.into !== undefined && existsSync(options.into)) throw new ReleaseError([{ code: "destination-exists", file: options.into }]);

  if (info.isDirectory()) {
    const files = await scanDirectory(source, source, limits);
    const verified = await verifyRelease({ root: source, label: source, files });
    if (!verified.ok) throw new ReleaseError(verified.issues);
    const sha = releaseIdentity(verified.value.release);
    if (options.into === undefined) return { dir: path.resolve(source), ...verified.value, identity: sha, close: async () => {} };
    const dir = await placeCopy(source, [...files.keys()], options.into, options.tempDir);
    return { dir, ...verified.value, identity: sha, close: async () => {} };
  }
  if (!info.isFile()) throw new ReleaseError([{ code: "special-entry", file: source, entry: source, kind: "special file" }]);

  const parent = options.tempDir ?? (options.into !== undefined ? path.dirname(path.resolve(options.into)) : os.tmpdir());
  await mkdirFixed(parent);
  const temp = await mkdtemp(path.join(parent, ".relup-unpack-"));
  const forget = removeOnInterrupt(temp);
  try {
    const extracted = path.join(temp, "release");
    const tree = await extractTarball(source, source, extracted, limits);
    const verified = await verifyRelease({ root: extracted, label: source, files: tree.files, top: tree.top });
    if (!verified.ok) throw new ReleaseError(verified.issues);
    const sha = releaseIdentity(verified.value.release);
    if (options.into === undefined) {
      return { dir: extracted, ...verified.value, identity: sha, close: () => removeQuietly(temp).then(forget) };
    }
    const into = path.resolve(options.into);
    await rename(extracted, into);
    await fsyncDir(path.dirname(into));
    await removeQuietly(temp);
    forget();
    return { dir: into, ...verified.value, identity: sha, close: async () => {} };
  } catch (error) {
    await removeQuietly(temp);
    forget();
    throw error;
  }
}

/** Copy the verified files of a release directory into a temporary directory, then rename it into place. */
async function placeCopy(source: string, files: string[], into: string, tempDir?: string): Promise<string> {
  const target = path.resolve(into);
  const parent = tempDir ?? path.dirname(target);
  await mkdirFixed(parent);
  const temp = await mkdtemp(path.join(parent, ".relup-unpack-"));
  const forget = removeOnInterrupt(temp);
  try {
    for (const rel of files) {
      const dest = path.join(temp, "release", rel);
      try {
        await mkdirFixed(path.dirname(dest));
        await copyFile(path.join(source, rel), dest);
      } catch (error) {
        // a full disk or a path that cannot be written: not a fault of the release (write-failure.ts)
        if ((error as NodeJS.ErrnoException).code === undefined) throw error;
        throw new ReleaseError([writeFailureIssue(error as Error, source, dest)]);
      }
    }
    await rename(path.join(temp, "release"), target);
    await fsyncDir(path.dirname(target));
    return target;
  } finally {
    await removeQuietly(temp);
    forget();
  }
}
