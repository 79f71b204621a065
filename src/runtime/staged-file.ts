/**
 * Files written in two moves: `stageFiles` writes each whole text to a temporary file beside its file
 * and fsyncs it, which is where a full disk fails; `commit` renames them into place, which needs no new
 * space. An install stages every file it records before its first step, so that a disk that cannot take
 * them refuses the install while nothing has changed yet.
 *
 * Several files commit together: before a file is replaced, its old version is kept under a hard link,
 * so that if a later rename fails, the earlier ones are put back and the commit changed nothing. The last
 * rename is the commit point; the fsync of the directory after it only makes it durable across a power
 * loss, and its failure is not a failed commit. Temporary files carry the pid of the process that wrote
 * them: `sweepStaged` removes those of dead processes (a node killed during an install).
 */
import { constants, existsSync } from "node:fs";
import { link, open, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { fsyncDir, FILE_MODE } from "../release/fs-utils.ts";
import { errnoMessage, isDiskFull } from "./errno-message.ts";
import { isAlive } from "./process-exit.ts";
import { O_NOFOLLOW } from "./root-trust.ts";

/** A write of `file` that failed: the path, and the errno (ENOSPC, EDQUOT, EISDIR, EIO...). */
export class StagingError extends Error {
  override readonly name = "StagingError";
  constructor(
    readonly file: string,
    readonly errno: string,
    readonly detail: string,
  ) {
    super(`${file} could not be written (${errnoMessage(errno) ?? detail}: ${errno})`);
  }

  get diskFull(): boolean {
    return isDiskFull(this.errno);
  }

  /** What to do about it, in words (after "Fix: "). */
  get fix(): string {
    return this.diskFull ? `free space on the file system of ${path.dirname(this.file)}` : `make ${this.file} a file this user can write (${this.errno})`;
  }
}

function stagingError(file: string, error: unknown): StagingError {
  const e = error as NodeJS.ErrnoException;
  return new StagingError(file, e.code ?? "unknown", e.message);
}

const tempOf = (file: string, pid = process.pid) => path.join(path.dirname(file), `.${path.basename(file)}.${pid}.tmp`);
const backupOf = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.old`);

export interface StagedFiles {
  /** rename every staged file into place, all or none */
  commit(): Promise<void>;
  /** remove the staged texts; the files stay as they were */
  discard(): Promise<void>;
}

/** Stage every file, or none: a failure removes the ones already staged. */
export async function stageFiles(files: readonly { file: string; text: string }[]): Promise<StagedFiles> {
  const staged: string[] = [];
  const discard = async () => void (await Promise.all(files.map(({ file }) => rm(tempOf(file), { force: true }).catch(() => undefined))));
  for (const { file, text } of files) {
    const temp = tempOf(file);
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
      staged.push(file);
    } catch (error) {
      await discard();
      throw stagingError(file, error);
    }
  }
  return { commit: () => commitAll(staged), discard };
}

async function commitAll(files: readonly string[]): Promise<void> {
  const done: { file: string; backup: string | undefined }[] = [];
  try {
    for (const file of files) {
      // The old version stays reachable until every file is in place.
      const backup = existsSync(file) ? backupOf(file) : undefined;
      if (backup) {
        await rm(backup, { force: true });
        await link(file, backup).catch((error: unknown) => Promise.reject(stagingError(file, error)));
      }
      await rename(tempOf(file), file).catch(async (error: unknown) => {
        if (backup) await rm(backup, { force: true });
        throw stagingError(file, error);
      });
      done.push({ file, backup });
    }
  } catch (error) {
    for (const { file, backup } of done.reverse()) await (backup ? rename(backup, file) : rm(file, { force: true })).catch(() => undefined);
    await Promise.all(files.map((file) => rm(tempOf(file), { force: true }).catch(() => undefined)));
    throw error;
  }
  for (const { backup } of done) if (backup) await rm(backup, { force: true }).catch(() => undefined);
  // Durability only: the renames are done, whatever the fsync says.
  for (const dir of new Set(files.map((f) => path.dirname(f)))) await fsyncDir(dir).catch(() => undefined);
}

/** Remove the temporary and backup files that dead processes left in `dirs` (see the header). */
export async function sweepStaged(dirs: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const pid = /^\..+\.(\d+)\.(tmp|old)$/.exec(name)?.[1];
      if (pid === undefined || isAlive(Number(pid))) continue;
      await rm(path.join(dir, name), { force: true, recursive: true }).catch(() => undefined);
      removed.push(path.join(dir, name));
    }
  }
  return removed;
}
