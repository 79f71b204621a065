/**
 * A file written in two moves: `stageFile` writes the whole text to a temporary file beside it and
 * fsyncs it, which is where a full disk fails; `commit` renames it over the file and fsyncs the
 * directory, which needs no new space. An install stages every file it records before its first step,
 * so that a disk that cannot take them refuses the install while nothing has changed yet.
 */
import { constants } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { fsyncDir, FILE_MODE } from "../release/fs-utils.ts";
import { O_NOFOLLOW } from "./root-trust.ts";

export interface StagedFile {
  readonly file: string;
  /** rename the staged text into place (durably) */
  commit(): Promise<void>;
  /** remove the staged text; the file stays as it was */
  discard(): Promise<void>;
}

/** A write of `file` that failed: the path, and the errno (ENOSPC, EDQUOT, EACCES...). */
export class StagingError extends Error {
  override readonly name = "StagingError";
  constructor(
    readonly file: string,
    readonly errno: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }

  get diskFull(): boolean {
    return this.errno === "ENOSPC" || this.errno === "EDQUOT";
  }
}

export async function stageFile(file: string, text: string): Promise<StagedFile> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    // A temporary file of a crashed earlier attempt by a process of the same pid is ours to replace.
    await rm(temp, { force: true });
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, FILE_MODE);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    const e = error as NodeJS.ErrnoException;
    throw new StagingError(file, e.code ?? "unknown", e.message);
  }
  return {
    file,
    async commit() {
      try {
        await rename(temp, file);
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        await rm(temp, { force: true });
        throw new StagingError(file, e.code ?? "unknown", e.message);
      }
      await fsyncDir(path.dirname(file));
    },
    discard: () => rm(temp, { force: true }),
  };
}

/** Stage every file, or none: a failure removes the ones already staged. */
export async function stageFiles(files: readonly { file: string; text: string }[]): Promise<{ commit(): Promise<void>; discard(): Promise<void> }> {
  const staged: StagedFile[] = [];
  try {
    for (const { file, text } of files) staged.push(await stageFile(file, text));
  } catch (error) {
    await Promise.all(staged.map((s) => s.discard()));
    throw error;
  }
  return {
    // In order; a failure leaves the rest uncommitted and removes their temporary files.
    async commit() {
      for (let i = 0; i < staged.length; i++) {
        try {
          await staged[i]!.commit();
        } catch (error) {
          await Promise.all(staged.slice(i + 1).map((s) => s.discard()));
          throw error;
        }
      }
    },
    discard: async () => void (await Promise.all(staged.map((s) => s.discard()))),
  };
}
