/**
 * Extract a release tarball into an empty directory, refusing anything a build never produces.
 *
 * The archive is gunzipped and parsed here, and every entry is checked before a byte is written:
 * one top-level directory; safe relative paths (entry-path.ts); only regular files and directories
 * (no symlinks, hardlinks, devices or FIFOs); no duplicates; size and count limits; a bounded ratio of
 * decompressed to compressed bytes, checked as the bytes flow (gzip bombs). Files are written
 * with fixed modes and their sha256 is computed as they stream. The caller verifies the content
 * (verify-release.ts) and removes the directory on any failure.
 */
import { createReadStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { createGunzip } from "node:zlib";
import { Parser, type ReadEntry } from "tar";
import { unsafePathReason } from "./entry-path.ts";
import { DIR_MODE } from "./fs-utils.ts";
import { ReleaseError, type ReleaseIssue } from "./issues.ts";
import type { ReadLimits } from "./limits.ts";
import { writeEntry, type EntryWrite } from "./write-entry.ts";
import { writeFailureIssue } from "./write-failure.ts";

export interface ExtractedTree {
  /** the single top-level directory of the archive */
  top: string;
  /** files relative to `top` → sha256 */
  files: Map<string, string>;
}

const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);
const LINK_TYPES = new Set(["SymbolicLink", "Link"]);

export async function extractTarball(tarball: string, label: string, into: string, limits: ReadLimits): Promise<ExtractedTree> {
  const files = new Map<string, string>();
  const seen = new Set<string>();
  const writes: Promise<void>[] = [];
  const open = new Set<EntryWrite>();
  let top: string | undefined;
  let total = 0;
  let failure: ReleaseIssue | undefined;
  /** the tar end-of-archive marker was read: what follows is padding, counted but never parsed */
  let archiveEnded = false;
  let trailing = 0;
  /** decompressed bytes so far, for the expansion bound */
  let unpacked = 0;
  let parserEnded = false;
  let gunzipEnded = false;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));

  // Unknown when the file cannot be read: the read stream reports that.
  const size = await stat(tarball).then((s) => s.size, () => undefined);
  const input = createReadStream(tarball);
  const gunzip = createGunzip();
  const parser = new Parser({ strict: true, brotli: false, zstd: false });

  // Every read ends in `fail` or when both the gzip stream and the parser have ended. A failure stops
  // the reading and every file write in progress, whose entries would otherwise wait for bytes that
  // never come (a tarball cut in the middle of a file).
  const fail = (issue: ReleaseIssue) => {
    if (!failure) {
      failure = issue;
      input.destroy();
      gunzip.destroy();
      parser.abort(new Error(issue.code));
      for (const write of open) write.stop(new Error(issue.code));
    }
    settle();
  };
  const settleIfEnded = () => {
    if (parserEnded && gunzipEnded) settle();
  };
  const corrupt = (error: Error & { code?: string }) => {
    // Bytes after a gzip stream that do not look like gzip: zlib reads them as the header of a next
    // stream and says "incorrect header check" (inside a stream, corruption gets other words).
    if (unpacked > 0 && error.code === "Z_DATA_ERROR" && /incorrect header check/.test(error.message) && size !== undefined) return fail({ code: "after-gzip", file: label, bytes: size - gunzip.bytesWritten, gzipBytes: gunzip.bytesWritten });
    fail({ code: "corrupt-archive", file: label, detail: describeCorruption(error) });
  };
  // A file or directory that cannot be written ends the read at once (the writes never reject: every
  // failure goes through `fail`, and is reported once everything has stopped). A full disk or a path that
  // cannot be written is not a fault of the archive: it gets its own issue (write-failure.ts).
  const unwritable = (at: string) => (error: Error) => fail(writeFailureIssue(error, label, at));

  parser.on("entry", (entry: ReadEntry) => {
    if (failure) return entry.resume();
    const issue = checkEntry(entry);
    if (issue) {
      entry.resume();
      return fail(issue);
    }
    const rel = entry.path.replace(/\/$/, "");
    const inner = rel.slice(top!.length + 1);
    if (entry.type === "Directory") {
      entry.resume();
      const dir = path.join(into, inner);
      if (inner) writes.push(mkdir(dir, { recursive: true, mode: DIR_MODE }).then(() => undefined, unwritable(dir)));
      return;
    }
    const target = path.join(into, inner);
    const write = writeEntry(entry, target);
    open.add(write);
    writes.push(write.done.then((hash) => void files.set(inner, hash), unwritable(target)).finally(() => open.delete(write)));
  });
  parser.on("eof", () => void (archiveEnded = true));
  parser.on("error", corrupt);
  parser.on("end", () => {
    parserEnded = true;
    settleIfEnded();
  });

  function checkEntry(entry: ReadEntry): ReleaseIssue | undefined {
    const name = entry.path;
    if (seen.size >= limits.maxEntries) return { code: "too-many-entries", file: label, limit: limits.maxEntries };
    const unsafe = unsafePathReason(name);
    if (unsafe) return { code: "unsafe-path", file: label, entry: name, why: unsafe };
    if (LINK_TYPES.has(entry.type)) return { code: "link-entry", file: label, entry: name, target: entry.linkpath ?? "" };
    if (!FILE_TYPES.has(entry.type) && entry.type !== "Directory") {
      return { code: "special-entry", file: label, entry: name, kind: describeType(entry.type) };
    }
    const rel = name.replace(/\/$/, "");
    const first = rel.split("/")[0]!;
    top ??= first;
    if (first !== top || (rel === top && entry.type !== "Directory")) {
      return { code: "outside-release-dir", file: label, entry: name, expected: `${top}/` };
    }
    if (seen.has(rel)) return { code: "duplicate-entry", file: label, entry: name };
    seen.add(rel);
    const size = entry.size ?? 0;
    if (size > limits.maxEntryBytes) return { code: "oversized", file: label, entry: name, size, limit: limits.maxEntryBytes, what: "entry" };
    total += size;
    if (total > limits.maxTotalBytes) return { code: "oversized", file: label, entry: name, size: total, limit: limits.maxTotalBytes, what: "release" };
    return undefined;
  }

  // The gunzipped bytes go to the parser until the end-of-archive marker; after it they are only counted,
  // up to a bound (node-tar would keep them in one buffer copied again for every chunk: quadratic time).
  // The rest of the gzip stream is still read, so that its checksum is verified.
  //
  // Every decompressed chunk is also weighed against the compressed bytes read so far (a gzip bomb):
  // past `expansionFloorBytes`, at most `maxExpansionRatio` bytes per compressed byte. The check runs
  // before the chunk reaches the parser, so at most one chunk (16 KiB) past the bound is ever written.
  // The tar headers' declared sizes bound the total written (`maxTotalBytes`, checked at each header).
  gunzip.on("data", (chunk: Buffer) => {
    if (failure) return;
    unpacked += chunk.length;
    const allowed = Math.max(limits.maxExpansionRatio * input.bytesRead, limits.expansionFloorBytes);
    if (unpacked > allowed) {
      return fail({ code: "expansion", file: label, unpacked, compressed: input.bytesRead, ratio: limits.maxExpansionRatio, floor: limits.expansionFloorBytes });
    }
    if (archiveEnded) {
      trailing += chunk.length;
      if (trailing > limits.maxTrailingBytes) fail({ code: "trailing-data", file: label, limit: limits.maxTrailingBytes });
      return;
    }
    if (!parser.write(chunk)) {
      gunzip.pause();
      parser.once("drain", () => gunzip.resume());
    }
  });
  gunzip.on("end", () => {
    gunzipEnded = true;
    // zlib stops at the end of the gzip stream and ignores what follows (zeros, say): a release is that
    // stream and nothing else, so what the file holds beyond it was appended.
    const after = size === undefined ? 0 : size - gunzip.bytesWritten;
    if (!failure && after > 0) return fail({ code: "after-gzip", file: label, bytes: after, gzipBytes: gunzip.bytesWritten });
    if (!failure) parser.end();
    settleIfEnded();
  });
  input.on("error", corrupt);
  gunzip.on("error", corrupt);
  input.pipe(gunzip);

  await settled;
  await Promise.all(writes);
  if (failure) throw new ReleaseError([failure]);
  if (top === undefined) throw new ReleaseError([{ code: "corrupt-archive", file: label, detail: "the archive has no entries" }]);
  return { top, files };
}

function describeType(type: string): string {
  switch (type) {
    case "CharacterDevice":
      return "character device";
    case "BlockDevice":
      return "block device";
    case "FIFO":
      return "named pipe (FIFO)";
    default:
      return `${type} entry`;
  }
}

function describeCorruption(error: Error & { code?: string }): string {
  if (error.code === "Z_BUF_ERROR" || /unexpected end of file/i.test(error.message)) return "the gzip stream is truncated";
  if (error.code === "Z_DATA_ERROR") return `not a valid gzip stream: ${error.message}`;
  if (error.code === "ENOENT") return "the file does not exist";
  return error.message.replace(/^TAR_[A-Z_]+: /, "");
}
