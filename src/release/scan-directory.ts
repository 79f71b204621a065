/**
 * Scan a release directory with the same rules as a tarball (extract-tarball.ts): only regular files
 * and directories, no links or special files, safe names, size and count limits; sha256 of every file.
 */
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { createHash } from "node:crypto";
import path from "node:path";
import { unsafePathReason } from "./entry-path.ts";
import { compareStrings } from "./fs-utils.ts";
import { ReleaseError } from "./issues.ts";
import type { ReadLimits } from "./limits.ts";

export async function scanDirectory(root: string, label: string, limits: ReadLimits): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  let entries = 0;
  let total = 0;
  async function walk(dir: string, rel: string): Promise<void> {
    for (const name of (await readdir(dir)).sort(compareStrings)) {
      const full = path.join(dir, name);
      const entry = rel ? `${rel}/${name}` : name;
      const info = await lstat(full);
      if (++entries > limits.maxEntries) throw new ReleaseError([{ code: "too-many-entries", file: label, limit: limits.maxEntries }]);
      const unsafe = unsafePathReason(entry);
      if (unsafe) throw new ReleaseError([{ code: "unsafe-path", file: label, entry, why: unsafe }]);
      if (info.isSymbolicLink()) throw new ReleaseError([{ code: "link-entry", file: label, entry, target: await readlink(full) }]);
      if (info.isDirectory()) {
        await walk(full, entry);
        continue;
      }
      if (!info.isFile()) throw new ReleaseError([{ code: "special-entry", file: label, entry, kind: describeStat(info) }]);
      if (info.nlink > 1) throw new ReleaseError([{ code: "link-entry", file: label, entry, target: `${info.nlink - 1} other hard link(s)` }]);
      if (info.size > limits.maxEntryBytes) {
        throw new ReleaseError([{ code: "oversized", file: label, entry, size: info.size, limit: limits.maxEntryBytes, what: "entry" }]);
      }
      total += info.size;
      if (total > limits.maxTotalBytes) {
        throw new ReleaseError([{ code: "oversized", file: label, entry, size: total, limit: limits.maxTotalBytes, what: "release" }]);
      }
      files.set(entry, await hashFile(full));
    }
  }
  await walk(root, "");
  return files;
}

export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

function describeStat(info: import("node:fs").Stats): string {
  if (info.isCharacterDevice()) return "character device";
  if (info.isBlockDevice()) return "block device";
  if (info.isFIFO()) return "named pipe (FIFO)";
  if (info.isSocket()) return "socket";
  return "special file";
}
