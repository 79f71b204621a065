/**
 * A full disk under a running node, for real: the root lives on a small tmpfs, filled to the last byte.
 * `relup apply --permanent` and `relup rollback` of a permanent release must then either complete or
 * change nothing: exit 1 says "nothing changed" and means it (the node runs what it ran, RELEASES is
 * byte for byte what it was, no temporary file is left), and the launcher outlives the log lines it can
 * no longer write. Mounting needs root with CAP_SYS_ADMIN; where the process cannot mount, that test is
 * skipped with a warning.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, watch } from "node:fs";
import os from "node:os";
import { appendFile, mkdir, open, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../src/net-helpers.ts";
import { isAlive, waitForExit } from "../../src/runtime/process-exit.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { useDetachedLaunchers } from "../helpers/detached.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const CLI_TIMEOUT_MS = 60_000;

/**
 * Whether this process can mount a tmpfs: tried for real on a scratch directory (root alone is not
 * enough in a container without CAP_SYS_ADMIN). Where it cannot, the full-disk test is skipped and says why.
 */
function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(path.join(os.tmpdir(), "relup-mount-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir], { stdio: "ignore" });
    execFileSync("umount", [dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const MOUNTABLE = canMount();
if (!MOUNTABLE) console.warn("disk-full.test.ts: this process cannot mount a tmpfs (needs root with CAP_SYS_ADMIN); the full-disk test is skipped");

const mounted: string[] = [];
// Registered before the launchers' hook, so that it runs after it: the launchers stop, then the file systems go.
afterEach(() => {
  for (const dir of mounted.splice(0)) execFileSync("umount", ["-l", dir]);
});
const detached = useDetachedLaunchers();

/**
 * Grow a JSON-lines log to a page boundary with one padding line, so that its next line needs a new
 * page of the file system (tmpfs allocates whole pages) and fails once the disk is full.
 */
async function padToPage(file: string): Promise<void> {
  const size = (await stat(file)).size;
  let need = 4096 - (size % 4096);
  if (need < 16) need += 4096;
  await appendFile(file, `{"pad":"${"x".repeat(need - 11)}"}\n`);
}

/** Write zeros to `file` until the file system says ENOSPC. */
async function fill(file: string): Promise<void> {
  const handle = await open(file, "a");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) {
      try {
        await handle.write(chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOSPC") break;
        throw error;
      }
    }
    // The last bytes a chunk did not fit in.
    for (;;) {
      try {
        await handle.write(Buffer.alloc(512));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOSPC") return;
        throw error;
      }
    }
  } finally {
    await handle.close();
  }
}

async function calculatorOnTmpfs() {
  const out = await tempDir();
  expect((await relup(["build", "fixtures/calculator/1.0.0", "--out", out])).code).toBe(0);
  expect((await relup(["build", "fixtures/calculator/1.1.0", "--out", out])).code).toBe(0);
  const fs = path.join(await tempDir(), "fs");
  await mkdir(fs);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=32m,mode=0755", "tmpfs", fs]);
  mounted.push(fs);
  const root = path.join(fs, "root");
  const port = await freePort();
  const started = await relup(["start", path.join(out, "calculator-1.0.0.tar.gz"), "--root", root, "--detach"], { PORT: String(port) }, CLI_TIMEOUT_MS);
  expect(started.code, started.stderr).toBe(0);
  const launcherPid = Number((await readFile(path.join(root, "run", "launcher.pid"), "utf8")).trim());
  detached.pid(launcherPid);
  expect((await relup(["unpack", path.join(out, "calculator-1.1.0.tar.gz"), "--root", root], {}, CLI_TIMEOUT_MS)).code).toBe(0);
  return { root, port, launcherPid, filler: path.join(fs, "filler"), releases: path.join(root, "releases", "RELEASES") };
}

async function statusOf(root: string): Promise<{ version: string; releases: string }> {
  const status = await relup(["status", "--root", root, "--json"], {}, CLI_TIMEOUT_MS);
  expect(status.code, status.stderr).toBe(0);
  const releases = await relup(["releases", "--root", root], {}, CLI_TIMEOUT_MS);
  expect(releases.code, releases.stderr).toBe(0);
  return { version: (JSON.parse(status.stdout) as { release: { version: string } }).release.version, releases: releases.stdout };
}

async function computes(port: number): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/calculate/2/3`);
  return response.text();
}

/** Until the root's control socket answers with another node than `old` (the launcher restarted it). */
async function waitForNewNode(root: string, old: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const status = await relup(["status", "--root", root, "--json"], {}, CLI_TIMEOUT_MS);
    if (status.code === 0 && (JSON.parse(status.stdout) as { pid: number }).pid !== old) return;
  }
  throw new Error(`no new node answered at ${root} within 30 s`);
}

/**
 * The complete JSON lines of `file` once `ready` holds for them, read again at each change of the file,
 * for up to `timeoutMs` (then as they are, for the assertion to show).
 */
async function jsonLinesOnce<T>(file: string, ready: (lines: T[]) => boolean, timeoutMs = 20_000): Promise<T[]> {
  const read = async () => (await readFile(file, "utf8")).split("\n").slice(0, -1).filter((l) => l !== "").map((l) => JSON.parse(l) as T);
  let wake: (() => void) | undefined;
  let changed = false;
  const watcher = watch(file, () => {
    changed = true;
    wake?.();
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      changed = false;
      const lines = await read();
      if (ready(lines) || Date.now() >= deadline) return lines;
      if (changed) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    watcher.close();
  }
}

async function leftovers(root: string): Promise<string[]> {
  return [...(await readdir(path.join(root, "releases"))), ...(await readdir(path.join(root, "run")))].filter((f) => f.includes(".tmp") || f.includes(".next") || f.startsWith(".incoming"));
}

describe.skipIf(!MOUNTABLE)("a full disk at apply --permanent and rollback (a real tmpfs)", () => {
  it("apply --permanent on a full disk exits 1 and changes nothing; with space it completes; rollback on a full disk changes nothing", { timeout: 180_000 }, async () => {
    const { root, port, launcherPid, filler, releases } = await calculatorOnTmpfs();
    const before = await readFile(releases, "utf8");
    const answer = await computes(port);

    await padToPage(path.join(root, "log", "launcher.jsonl"));
    await padToPage(path.join(root, "log", "node.jsonl"));
    await fill(filler);
    const full = await relup(["apply", "1.1.0", "--root", root, "--permanent", "--yes"], {}, CLI_TIMEOUT_MS);
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toMatch(/no space left/i);
    expect(full.stderr).toContain("Nothing was changed");
    expect(full.stderr).toContain("Fix: free space");
    expect(await readFile(releases, "utf8")).toBe(before);
    expect(await leftovers(root)).toEqual([]);
    const after = await statusOf(root);
    expect(after.version).toBe("1.0.0");
    expect(after.releases).toMatch(/1\.0\.0\s+permanent/);
    expect(await computes(port)).toEqual(answer);

    // A node that dies while the disk is full: the launcher cannot log it, and restarts it all the same.
    const nodePid = (JSON.parse((await relup(["status", "--root", root, "--json"], {}, CLI_TIMEOUT_MS)).stdout) as { pid: number }).pid;
    process.kill(nodePid, "SIGKILL");
    expect(await waitForExit(nodePid, 20_000)).toBe(true);
    await waitForNewNode(root, nodePid);
    expect(isAlive(launcherPid)).toBe(true);
    expect((await statusOf(root)).version).toBe("1.0.0");
    expect(await computes(port)).toEqual(answer);

    await rm(filler);
    const applied = await relup(["apply", "1.1.0", "--root", root, "--permanent", "--yes"], {}, CLI_TIMEOUT_MS);
    expect(applied.code, applied.stderr).toBe(0);
    const upgraded = await statusOf(root);
    expect(upgraded.version).toBe("1.1.0");
    expect(upgraded.releases).toMatch(/1\.1\.0\s+permanent/);
    // The lines the full disk refused are counted in the log, once there is room again (the launcher
    // writes the node's lines after the node printed them: waited for, not read at once).
    const lost = (lines: { event?: string }[]) => lines.some((l) => l.event === "log lines lost");
    const nodeLog = await jsonLinesOnce<{ event?: string; count?: number; error?: string }>(path.join(root, "log", "node.jsonl"), lost);
    expect(nodeLog).toContainEqual(expect.objectContaining({ event: "log lines lost", error: "ENOSPC" }));
    const permanentFile = await readFile(releases, "utf8");

    await fill(filler);
    const back = await relup(["rollback", "--root", root], {}, CLI_TIMEOUT_MS);
    expect(back.code, back.stderr).toBe(1);
    expect(back.stderr).toMatch(/no space left/i);
    expect(back.stderr).toContain("Nothing was changed");
    expect(await readFile(releases, "utf8")).toBe(permanentFile);
    expect(await leftovers(root)).toEqual([]);
    expect((await statusOf(root)).version).toBe("1.1.0");

    await rm(filler);
    const rolledBack = await relup(["rollback", "--root", root], {}, CLI_TIMEOUT_MS);
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    const down = await statusOf(root);
    expect(down.version).toBe("1.0.0");
    expect(down.releases).toMatch(/1\.0\.0\s+permanent/);
    expect(existsSync(path.join(root, "run", "launcher.pid"))).toBe(true);
  });
});

describe("an install whose records cannot be put in place after its last step", () => {
  const liveNode = useLiveNodes(tempDir);

  it("is undone in memory: exit 1, the node runs the release it ran with its processes' state, RELEASES unchanged", { timeout: 120_000 }, async () => {
    const { root, port, v2 } = await liveNode({ from: "fixtures/counter/1.0.0", to: "fixtures/counter/2.0.0", app: "counter" });
    const count = async (op: string) => (await (await fetch(`http://127.0.0.1:${port}/${op}/apples`)).text()).trim();
    for (let i = 0; i < 3; i++) await count("count");
    const releases = path.join(root, "releases", "RELEASES");
    const before = await readFile(releases, "utf8");
    // A directory where the install's record goes: staging it works, renaming it into place cannot.
    await mkdir(path.join(root, "run", "last-install.json", "in-the-way"), { recursive: true });

    const result = await relup(["apply", v2, "--root", root, "--permanent", "--yes"], {}, CLI_TIMEOUT_MS);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain("last-install.json could not be written");
    expect(result.stderr).toContain("it was undone in memory, the node runs 1.0.0 as before. Nothing was changed");
    expect(await readFile(releases, "utf8")).toBe(before);
    expect(await leftovers(root)).toEqual([]);
    expect((await statusOf(root)).version).toBe("1.0.0");
    // The state went up to vsn 2 and back down by codeChange, and the count goes on.
    expect(await count("peek")).toBe("3");
    expect(await count("count")).toBe("4");
  });
});

describe("an unpack whose RELEASES cannot be written", () => {
  const liveNode = useLiveNodes(tempDir);

  it("removes the release directory it placed: exit 1, the root holds what it held", { timeout: 120_000 }, async () => {
    const { root, v2, ready } = await liveNode({ from: "fixtures/counter/1.0.0", to: "fixtures/counter/2.0.0", app: "counter" });
    const releases = path.join(root, "releases", "RELEASES");
    const before = await readFile(releases, "utf8");
    // A directory where the node stages RELEASES: the release's files are written, RELEASES cannot be.
    await mkdir(path.join(root, "releases", `.RELEASES.${ready.pid}.tmp`, "in-the-way"), { recursive: true });

    const result = await relup(["unpack", v2, "--root", root], {}, CLI_TIMEOUT_MS);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain("RELEASES could not be written (");
    expect(result.stderr).toContain("Nothing was changed");
    expect(existsSync(path.join(root, "releases", "2.0.0"))).toBe(false);
    expect(await readFile(releases, "utf8")).toBe(before);
  });
});
