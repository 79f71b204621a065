/**
 * Files an install records, staged before its first step and committed after its last: all or none,
 * with what dead processes left behind swept at boot. Real files in a temporary directory.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { StagingError, stageFiles, sweepStaged } from "../../src/runtime/staged-file.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();

describe("stageFiles", () => {
  it("commits every file, leaving no temporary or backup file", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "a"), "old a");
    const staged = await stageFiles([
      { file: path.join(dir, "a"), text: "new a" },
      { file: path.join(dir, "b"), text: "new b" },
    ]);
    expect((await readdir(dir)).sort()).toEqual([".a." + process.pid + ".tmp", ".b." + process.pid + ".tmp", "a"]);
    await staged.commit();
    expect(await readFile(path.join(dir, "a"), "utf8")).toBe("new a");
    expect(await readFile(path.join(dir, "b"), "utf8")).toBe("new b");
    expect((await readdir(dir)).sort()).toEqual(["a", "b"]);
  });

  it("a rename that fails after an earlier one succeeded puts the earlier file back: the commit changed nothing", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "first"), "old first");
    // A directory in the way of the second file: its rename fails (EISDIR).
    await mkdir(path.join(dir, "second", "in-the-way"), { recursive: true });
    const staged = await stageFiles([
      { file: path.join(dir, "first"), text: "new first" },
      { file: path.join(dir, "second"), text: "new second" },
    ]);
    const error = await staged.commit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StagingError);
    expect((error as StagingError).file).toBe(path.join(dir, "second"));
    expect((error as StagingError).message).toMatch(/second could not be written \(.+: E\w+\)/);
    expect(await readFile(path.join(dir, "first"), "utf8")).toBe("old first");
    expect((await readdir(dir)).sort()).toEqual(["first", "second"]);
  });

  it("a file that did not exist before is removed again when a later rename fails", async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, "second", "in-the-way"), { recursive: true });
    const staged = await stageFiles([
      { file: path.join(dir, "first"), text: "new first" },
      { file: path.join(dir, "second"), text: "new second" },
    ]);
    await expect(staged.commit()).rejects.toBeInstanceOf(StagingError);
    expect(await readdir(dir)).toEqual(["second"]);
  });

  it("a full disk is said as such, with the fix (the real ENOSPC is in disk-full.test.ts)", async () => {
    const dir = await tempDir();
    const full = new StagingError(path.join(dir, "RELEASES"), "ENOSPC", "write failed");
    expect(full.message).toBe(`${path.join(dir, "RELEASES")} could not be written (no space left on device: ENOSPC)`);
    expect(full.fix).toBe(`free space on the file system of ${dir}`);
    expect(new StagingError(path.join(dir, "RELEASES"), "EISDIR", "x").message).toContain("(illegal operation on a directory: EISDIR)");
  });

  it("discard removes the staged texts and keeps the files", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "a"), "old");
    const staged = await stageFiles([{ file: path.join(dir, "a"), text: "new" }]);
    await staged.discard();
    expect(await readdir(dir)).toEqual(["a"]);
    expect(await readFile(path.join(dir, "a"), "utf8")).toBe("old");
  });
});

describe("sweepStaged", () => {
  it("removes what a dead process staged, keeps what a live one did, and leaves other files alone", async () => {
    const dir = await tempDir();
    // A pid above the kernel's pid_max (4194304) is never alive.
    const dead = 4_194_305;
    await writeFile(path.join(dir, `.RELEASES.${dead}.tmp`), "staged by a node the watchdog killed");
    await writeFile(path.join(dir, `.RELEASES.${dead}.old`), "a backup it kept");
    await writeFile(path.join(dir, `.RELEASES.${process.pid}.tmp`), "staged by a live process");
    await writeFile(path.join(dir, "RELEASES"), "{}");
    const removed = await sweepStaged([dir, path.join(dir, "missing")]);
    expect(removed.sort()).toEqual([path.join(dir, `.RELEASES.${dead}.old`), path.join(dir, `.RELEASES.${dead}.tmp`)]);
    expect((await readdir(dir)).sort()).toEqual([`.RELEASES.${process.pid}.tmp`, "RELEASES"]);
  });
});
