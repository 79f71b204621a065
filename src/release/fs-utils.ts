/** Small file helpers shared by the release writer and reader. */
import { createHash } from "node:crypto";
import { mkdir, chmod, writeFile, open, rm } from "node:fs/promises";
import path from "node:path";

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Modes are fixed, whatever the umask, so that a build is byte-identical on every machine. */
export const FILE_MODE = 0o644;
export const DIR_MODE = 0o755;

export async function writeFileFixed(file: string, data: string | Uint8Array): Promise<void> {
  await mkdirFixed(path.dirname(file));
  await writeFile(file, data, { mode: FILE_MODE });
  await chmod(file, FILE_MODE);
}

export async function mkdirFixed(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (created !== undefined) {
    for (let d = dir; d.length >= created.length; d = path.dirname(d)) await chmod(d, DIR_MODE);
  }
}

/** fsync a directory so that a rename inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function removeQuietly(target: string): Promise<void> {
  await rm(target, { recursive: true, force: true });
}

/** Byte order of UTF-16 code units: the stable order used for every list written by relup. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JSON as relup writes it: two-space indent, trailing newline. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}
