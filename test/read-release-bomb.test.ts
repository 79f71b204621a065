/**
 * Gzip bombs and disks that cannot be written. A 1 MiB tarball of zeros once wrote hundreds of MiB
 * before it was refused; a write that failed during unpacking was reported as a corrupt archive with the
 * advice to download it again. Real tarballs (gzip members of zeros, concatenated), the real CLI (its
 * entry, runCli; in a child process where the test needs the process's own TMPDIR), and a real ENOSPC
 * from /dev/full.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { buildRelease } from "../src/release/build-release.ts";
import { ReleaseError } from "../src/release/issues.ts";
import { readRelease } from "../src/release/read-release.ts";
import { writeFailureIssue } from "../src/release/write-failure.ts";
import { tarBytes } from "./helpers/craft-tarball.ts";
import { relup, relupProcess } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();
const CLI_TIMEOUT_MS = 60_000;
const MiB = 1024 * 1024;
const TOP = "calculator-1.0.0";

/** One 512-byte tar header. */
const header = (entry: Parameters<typeof tarBytes>[0][number]) => tarBytes([entry]).subarray(0, 512);

/**
 * A tarball whose files are `files` × `mib` MiB of zeros: each file is one header followed by gzip
 * members of 16 MiB of zeros (about 16 KiB each), so a few hundred KiB unpack to hundreds of MiB.
 */
function bomb(files: number, mib: number): Buffer {
  const zeros16 = gzipSync(Buffer.alloc(16 * MiB), { level: 9 });
  const members: Buffer[] = [gzipSync(header({ path: `${TOP}/`, type: "Directory" }))];
  for (let i = 0; i < files; i++) {
    members.push(gzipSync(header({ path: `${TOP}/zeros-${i}.bin`, size: mib * MiB })));
    for (let left = mib; left > 0; left -= 16) members.push(left >= 16 ? zeros16 : gzipSync(Buffer.alloc(left * MiB)));
  }
  members.push(gzipSync(Buffer.alloc(1024)));
  return Buffer.concat(members);
}

describe("a gzip bomb", () => {
  it("relup inspect refuses it early with exit 2, naming the ratio and the fix, and leaves no temporary directory", { timeout: CLI_TIMEOUT_MS }, async () => {
    const dir = await tempDir();
    const tmp = path.join(dir, "tmp");
    await mkdir(tmp);
    const file = path.join(dir, `${TOP}.tar.gz`);
    const tarball = bomb(2, 240);
    expect(tarball.length).toBeLessThan(1 * MiB);
    await writeFile(file, tarball);
    // A process of its own: TMPDIR is read from the process environment.
    const result = await relupProcess(["inspect", file], { TMPDIR: tmp }, CLI_TIMEOUT_MS);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toContain(`${file}: unpacks to more than 100 times its compressed size`);
    expect(result.stderr).toContain("Fix:");
    expect(result.stderr).not.toContain("download");
    // the CLI's own runtime (tsx) keeps a cache there; nothing of the release may remain
    expect((await readdir(tmp)).filter((name) => !name.startsWith("tsx-"))).toEqual([]);
  });

  it("readRelease stops before the bound: the bytes unpacked when it refuses stay near max(100 × compressed, 64 MiB)", { timeout: CLI_TIMEOUT_MS }, async () => {
    const dir = await tempDir();
    const temp = path.join(dir, "temp");
    await mkdir(temp);
    const file = path.join(dir, `${TOP}.tar.gz`);
    await writeFile(file, bomb(2, 240));
    const error = await readRelease(file, { into: path.join(dir, "dest"), tempDir: temp }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    const [issue] = (error as ReleaseError).issues;
    expect(issue).toMatchObject({ code: "expansion", file, ratio: 100, floor: 64 * MiB });
    if (issue?.code !== "expansion") throw new Error("unreachable");
    // refused as soon as the bound is passed: by at most one decompressed chunk and the compressed read-ahead
    expect(issue.unpacked).toBeGreaterThan(64 * MiB);
    expect(issue.unpacked).toBeLessThan(Math.max(100 * issue.compressed, 64 * MiB) + MiB);
    expect(issue.unpacked).toBeLessThan(128 * MiB);
    expect(await readdir(temp)).toEqual([]);
    expect(await readdir(dir)).toEqual(["calculator-1.0.0.tar.gz", "temp"]);
  });

  it("the ratio and its floor can be set by callers of the library", async () => {
    const dir = await tempDir();
    const file = path.join(dir, `${TOP}.tar.gz`);
    await writeFile(file, bomb(1, 8));
    const error = await readRelease(file, { into: path.join(dir, "dest"), limits: { expansionFloorBytes: 1 * MiB } }).catch((e: unknown) => e);
    expect((error as ReleaseError).issues).toEqual([expect.objectContaining({ code: "expansion", floor: MiB })]);
  });

  it("a small archive that compresses well is not refused for its ratio (under the 64 MiB floor)", async () => {
    const dir = await tempDir();
    const file = path.join(dir, `${TOP}.tar.gz`);
    await writeFile(file, bomb(1, 8));
    const error = await readRelease(file, { into: path.join(dir, "dest") }).catch((e: unknown) => e);
    // refused, but for what it is (not a release), not for its ratio
    expect((error as ReleaseError).issues.map((i) => i.code)).not.toContain("expansion");
  });
});

describe("a header that declares a 300 MiB entry", () => {
  it("relup inspect says the entry, its size and the limit, not 'truncated'", { timeout: CLI_TIMEOUT_MS }, async () => {
    const dir = await tempDir();
    const file = path.join(dir, `${TOP}.tar.gz`);
    await writeFile(file, gzipSync(tarBytes([{ path: `${TOP}/`, type: "Directory" }, { path: `${TOP}/huge.bin`, body: randomBytes(4096), size: 300 * MiB }]).subarray(0, 2048)));
    const result = await relup(["inspect", file], {}, CLI_TIMEOUT_MS);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`entry "${TOP}/huge.bin": is ${300 * MiB} bytes, over the limit of ${256 * MiB} bytes per file`);
    expect(result.stderr).not.toContain("truncated");
  });
});

describe("a write that fails during unpacking", () => {
  it("a full disk (a real ENOSPC, from /dev/full) is its own issue: free space, nothing was kept; never 'download again'", async () => {
    const error = await writeFile("/dev/full", "x").catch((e: unknown) => e as NodeJS.ErrnoException);
    expect(error?.code).toBe("ENOSPC");
    const issue = writeFailureIssue(error!, "r.tar.gz", "/srv/node/releases/.relup-unpack-x/lib/a.js");
    expect(issue).toMatchObject({ code: "disk-full", file: "r.tar.gz", at: "/srv/node/releases/.relup-unpack-x/lib/a.js" });
    const message = new ReleaseError([issue]).message;
    expect(message).toContain("no space left");
    expect(message).toContain("/srv/node/releases/.relup-unpack-x/lib/a.js");
    expect(message).toContain("Fix: free space");
    expect(message).toContain("Nothing was kept");
    expect(message).not.toContain("download");
    expect(writeFailureIssue(Object.assign(new Error("quota"), { code: "EDQUOT" }), "r.tar.gz", "/x")).toMatchObject({ code: "disk-full" });
  });

  it("a path that cannot be written (a file entry under a file: ENOTDIR) is reported as unwritable, with the path, not as a corrupt download", async () => {
    const dir = await tempDir();
    const file = path.join(dir, `${TOP}.tar.gz`);
    await writeFile(file, gzipSync(tarBytes([{ path: `${TOP}/`, type: "Directory" }, { path: `${TOP}/data`, body: "a file" }, { path: `${TOP}/data/big.bin`, body: "x" }])));
    const temp = path.join(dir, "temp");
    await mkdir(temp);
    const error = await readRelease(file, { into: path.join(dir, "dest"), tempDir: temp }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).issues).toEqual([expect.objectContaining({ code: "unwritable", file })]);
    expect((error as ReleaseError).message).toContain("data");
    expect((error as ReleaseError).message).not.toContain("download");
    expect(await readdir(temp)).toEqual([]);
  });
});

describe("a copy that fails while placing a release directory", () => {
  it("a destination path too long to write (ENAMETOOLONG) is reported as unwritable, naming the path, and nothing is left", async () => {
    const dir = await tempDir();
    const built = await buildRelease({ dir: "fixtures/calculator/1.0.0", out: path.join(dir, "build") });
    // a temporary directory whose path leaves no room under PATH_MAX (4096) for the release's own paths
    let temp = path.join(dir, "t");
    while (temp.length < 4096 - 40) temp = path.join(temp, "d".repeat(Math.min(200, 4096 - 40 - temp.length - 1)));
    await mkdir(temp, { recursive: true });
    const error = await readRelease(built.releaseDir, { into: path.join(dir, "dest"), tempDir: temp }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).issues).toEqual([expect.objectContaining({ code: "unwritable", file: built.releaseDir, errno: "ENAMETOOLONG" })]);
    expect((error as ReleaseError).message).toContain("Nothing was kept");
    expect(await readdir(temp)).toEqual([]);
    expect(await readdir(dir)).not.toContain("dest");
  });
});
