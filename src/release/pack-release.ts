/**
 * Pack a built release directory into `<name>-<version>.tar.gz`, byte for byte reproducible:
 * entries sorted, every directory listed before its files, one fixed mtime, portable headers (no owner,
 * group, atime or ctime), modes fixed by the writer, gzip without a timestamp.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import * as tar from "tar";
import { compareStrings } from "./fs-utils.ts";

/** The mtime of every entry: fixed, as npm does for reproducible package tarballs. */
export const ENTRY_MTIME = new Date("1985-10-26T08:15:00Z");

export async function packRelease(parentDir: string, releaseDirName: string, tarballPath: string): Promise<void> {
  const entries = [releaseDirName, ...(await listTree(path.join(parentDir, releaseDirName), releaseDirName))];
  await tar.create(
    { file: tarballPath, cwd: parentDir, gzip: { level: 9 }, portable: true, mtime: ENTRY_MTIME, noDirRecurse: true, strict: true },
    entries,
  );
}

/** Every directory and file below `dir`, depth first, sorted: `a/`, `a/x`, `b`. */
async function listTree(dir: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => compareStrings(a.name, b.name))) {
    const rel = `${prefix}/${entry.name}`;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await listTree(path.join(dir, entry.name), rel)));
  }
  return out;
}
