/**
 * Write tar archives entry by entry, including entries `relup build` never writes (links, devices,
 * `..` paths, duplicates, lying sizes), to test the safe release reader with hostile input.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { Header } from "tar";

export type EntryType = "File" | "Directory" | "SymbolicLink" | "Link" | "CharacterDevice" | "BlockDevice" | "FIFO";

export interface CraftEntry {
  path: string;
  type?: EntryType;
  body?: string | Buffer;
  linkpath?: string;
  /** the size written in the header; defaults to the body's length */
  size?: number;
}

export function tarBytes(entries: readonly CraftEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = typeof entry.body === "string" ? Buffer.from(entry.body) : (entry.body ?? Buffer.alloc(0));
    const type = entry.type ?? "File";
    const header = new Header({
      path: entry.path,
      type,
      mode: type === "Directory" ? 0o755 : 0o644,
      size: entry.size ?? (type === "File" ? body.length : 0),
      mtime: new Date(0),
      uid: 0,
      gid: 0,
      ...(entry.linkpath !== undefined ? { linkpath: entry.linkpath } : {}),
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export function craftTarball(entries: readonly CraftEntry[]): Buffer {
  return gzipSync(tarBytes(entries));
}

/** The entries of a built release directory, directories first, as `relup build` packs them. */
export async function entriesOfRelease(releaseDir: string): Promise<CraftEntry[]> {
  const top = path.basename(releaseDir);
  const out: CraftEntry[] = [{ path: `${top}/`, type: "Directory" }];
  async function walk(dir: string, rel: string): Promise<void> {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const childRel = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        out.push({ path: `${childRel}/`, type: "Directory" });
        await walk(path.join(dir, entry.name), childRel);
      } else {
        out.push({ path: childRel, body: await readFile(path.join(dir, entry.name)) });
      }
    }
  }
  await walk(releaseDir, top);
  return out;
}
