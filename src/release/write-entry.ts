/**
 * Write one file entry of a tarball to disk, hashing it as it streams, in a way that always ends.
 *
 * The promise settles only once the file's descriptor is closed, so a caller that removes the directory
 * afterwards removes everything. `stop` ends a write whose entry will never end (the archive was cut or
 * refused in the middle of it): the file is closed and the promise rejects.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createHash } from "node:crypto";
import path from "node:path";
import type { ReadEntry } from "tar";
import { DIR_MODE, FILE_MODE } from "./fs-utils.ts";

export interface EntryWrite {
  /** the file's sha256, once it is written and closed */
  done: Promise<string>;
  /** abandon the write: the file is closed, and `done` rejects with `reason` */
  stop(reason: Error): void;
}

export function writeEntry(entry: ReadEntry, target: string): EntryWrite {
  let stopped: Error | undefined;
  let out: WriteStream | undefined;
  const done = new Promise<string>((resolve, reject) => {
    mkdir(path.dirname(target), { recursive: true, mode: DIR_MODE }).then(() => {
      if (stopped) return reject(stopped);
      const hash = createHash("sha256");
      let failed: Error | undefined;
      const file = createWriteStream(target, { flags: "wx", mode: FILE_MODE });
      out = file;
      file.on("error", (error) => void (failed ??= error));
      file.on("close", () => {
        if (stopped ?? failed) reject(stopped ?? failed);
        else if (file.writableFinished) resolve(hash.digest("hex"));
        else reject(new Error(`${target}: closed before it was written`));
      });
      entry.on("data", (chunk: Buffer) => {
        if (stopped ?? failed) return;
        hash.update(chunk);
        if (!file.write(chunk)) {
          entry.pause();
          file.once("drain", () => entry.resume());
        }
      });
      entry.on("end", () => void (stopped ?? failed ? undefined : file.end()));
    }, reject);
  });
  return {
    done,
    stop(reason) {
      stopped ??= reason;
      out?.destroy();
    },
  };
}
