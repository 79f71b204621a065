/**
 * Every read of a tarball ends, on every input, and releases what it holds. A tarball cut in the middle
 * of a large file once left the reader waiting for the end of an entry that never came: `relup inspect`
 * exited 13 (a promise never settled) and `relup unpack` held the release handler's queue for good, so
 * every later command waited behind it. Data after the end of the archive was once buffered and copied
 * again for every chunk (quadratic time, and memory for all of it). Real tarballs, the real CLI (its
 * entry, runCli, in the test's process), and a real node.
 */
import { randomBytes } from "node:crypto";
import { appendFile, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRelease } from "../src/release/build-release.ts";
import { ReleaseError } from "../src/release/issues.ts";
import { readRelease } from "../src/release/read-release.ts";
import { entriesOfRelease, tarBytes, type CraftEntry } from "./helpers/craft-tarball.ts";
import { useLiveNodes } from "./helpers/live-node.ts";
import { relup } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

/** Long enough for a slow machine to read a few MiB, short enough that a hang fails the test rather than the run. */
const CLI_TIMEOUT_MS = 30_000;

let root: string;
let good: CraftEntry[];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "relup-ends-"));
  const built = await buildRelease({ dir: "fixtures/calculator/1.0.0", out: path.join(root, "build") });
  good = await entriesOfRelease(built.releaseDir);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The calculator release with a 4 MiB file that does not compress, gzipped, then cut at 60%. */
async function truncatedTarball(dir: string): Promise<string> {
  const whole = gzipSync(tarBytes([...good, { path: "calculator-1.0.0/big.bin", body: randomBytes(4 * 1024 * 1024) }]));
  const file = path.join(dir, "calculator-1.0.0.tar.gz");
  await writeFile(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
  return file;
}

describe("a tarball cut in the middle of a large file", () => {
  it("relup inspect exits 2 with a message naming the file and the fix", async () => {
    const file = await truncatedTarball(await tempDir());
    const result = await relup(["inspect", file], {}, CLI_TIMEOUT_MS);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toContain(`${file}: is not a complete .tar.gz release (the gzip stream is truncated)`);
    expect(result.stderr).toContain("Fix:");
  });

  it("readRelease rejects it and leaves nothing behind", { timeout: CLI_TIMEOUT_MS }, async () => {
    const dir = await tempDir();
    const file = await truncatedTarball(dir);
    const temp = path.join(dir, "temp");
    const error = await readRelease(file, { into: path.join(dir, "dest"), tempDir: temp }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).issues).toEqual([expect.objectContaining({ code: "corrupt-archive", file })]);
    expect(await readdir(temp)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(["calculator-1.0.0.tar.gz", "temp"]);
  });

  it("relup unpack on a live node fails the same way, leaves no .relup-unpack-* directory, and the node answers the next command", async () => {
    const n = await liveNode({ from: "fixtures/calculator/1.0.0", to: "fixtures/calculator/1.1.0", app: "calculator" });
    const file = await truncatedTarball(n.out);
    const result = await relup(["unpack", file, "--root", n.root], {}, CLI_TIMEOUT_MS);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: is not a complete .tar.gz release`);
    expect((await readdir(path.join(n.root, "releases"))).filter((name) => name.startsWith("."))).toEqual([]);
    expect(await relup(["releases", "--root", n.root], {}, CLI_TIMEOUT_MS)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^calculator 1\.0\.0 +permanent\n$/) });
    expect(await relup(["unpack", n.v2, "--root", n.root], {}, CLI_TIMEOUT_MS)).toMatchObject({ code: 0, stdout: "unpacked 1.1.0\n" });
  });
});

describe("bytes after the end of the tar archive", () => {
  /** The calculator release's tar bytes followed by `trailing`, gzipped as one stream. */
  async function withTrailing(dir: string, trailing: Buffer): Promise<string> {
    const file = path.join(dir, "calculator-1.0.0.tar.gz");
    await writeFile(file, gzipSync(Buffer.concat([tarBytes(good), trailing])));
    return file;
  }

  it("the padding tar tools add (GNU tar's 10 KiB record) is accepted", async () => {
    const dir = await tempDir();
    const loaded = await readRelease(await withTrailing(dir, Buffer.alloc(10 * 1024)), { into: path.join(dir, "dest") });
    expect(loaded.release.version).toBe("1.0.0");
  });

  it("8 MiB of zeros is refused after the first MiB, naming the file and the limit, and nothing is left", { timeout: CLI_TIMEOUT_MS }, async () => {
    const dir = await tempDir();
    const file = await withTrailing(dir, Buffer.alloc(8 * 1024 * 1024));
    const temp = path.join(dir, "temp");
    const error = await readRelease(file, { into: path.join(dir, "dest"), tempDir: temp }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).issues).toEqual([{ code: "trailing-data", file, limit: 1024 * 1024 }]);
    expect((error as ReleaseError).message).toContain(`${file}: has more than 1048576 bytes after the end of the tar archive`);
    expect(await readdir(temp)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(["calculator-1.0.0.tar.gz", "temp"]);
  });

  it("data appended after the archive is refused by relup inspect with exit 2 and the fix", async () => {
    const file = await withTrailing(await tempDir(), randomBytes(2 * 1024 * 1024));
    const result = await relup(["inspect", file], {}, CLI_TIMEOUT_MS);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toContain(`${file}: has more than 1048576 bytes after the end of the tar archive`);
    expect(result.stderr).toContain("Fix: rebuild it with `relup build`");
  });

  it("the limit can be set by callers of the library", async () => {
    const dir = await tempDir();
    const file = await withTrailing(dir, Buffer.alloc(4 * 1024 * 1024));
    const loaded = await readRelease(file, { into: path.join(dir, "dest"), limits: { maxTrailingBytes: 8 * 1024 * 1024 } });
    expect(loaded.release.version).toBe("1.0.0");
  });
});

describe("bytes after the end of the gzip stream", () => {
  const gzipped = async (dir: string) => {
    const file = path.join(dir, "calculator-1.0.0.tar.gz");
    await writeFile(file, gzipSync(tarBytes(good)));
    return file;
  };

  it("8 MiB of zeros appended to a built tarball is refused (zlib alone ignores them), naming the bytes and the fix", { timeout: CLI_TIMEOUT_MS }, async () => {
    const dir = await tempDir();
    const file = await gzipped(dir);
    const { size } = await stat(file);
    await appendFile(file, Buffer.alloc(8 * 1024 * 1024));
    const result = await relup(["inspect", file], {}, CLI_TIMEOUT_MS);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toContain(`${file}: has ${8 * 1024 * 1024} bytes after the end of its gzip stream (the stream is the first ${size} bytes)`);
    expect(result.stderr).toContain("Fix: rebuild it");
  });

  it("random bytes appended are the same issue, not 'not a valid gzip stream'", { timeout: CLI_TIMEOUT_MS }, async () => {
    const dir = await tempDir();
    const file = await gzipped(dir);
    await appendFile(file, randomBytes(1024 * 1024));
    const error = await readRelease(file, { into: path.join(dir, "dest") }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).issues).toEqual([expect.objectContaining({ code: "after-gzip", file })]);
    expect(await readdir(dir)).toEqual(["calculator-1.0.0.tar.gz"]);
  });

  it("a tarball that ends with its gzip stream is read", async () => {
    const dir = await tempDir();
    const loaded = await readRelease(await gzipped(dir), { into: path.join(dir, "dest") });
    expect(loaded.release.version).toBe("1.0.0");
  });
});

describe("a file that cannot be written", () => {
  it("a file entry under a path that is a file ends the read with an error, not a wait", { timeout: CLI_TIMEOUT_MS }, async () => {
    const dir = await tempDir();
    const file = path.join(dir, "calculator-1.0.0.tar.gz");
    const big = randomBytes(4 * 1024 * 1024);
    await writeFile(file, gzipSync(tarBytes([...good, { path: "calculator-1.0.0/data", body: "a file" }, { path: "calculator-1.0.0/data/big.bin", body: big }])));
    const temp = path.join(dir, "temp");
    const error = await readRelease(file, { into: path.join(dir, "dest"), tempDir: temp }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).message).toContain(file);
    expect(await readdir(temp)).toEqual([]);
  });
});
