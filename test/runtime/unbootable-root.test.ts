/**
 * A root whose RELEASES cannot boot anything: unreadable or invalid, naming a release that is not on
 * disk, or naming no permanent release. A launcher whose node dies then logs why and exits non-zero,
 * leaving no pid file and no control socket, instead of hanging or restarting forever; `relup start`
 * says so with exit 2. And an orphan `releases/<vsn>` (a crash between the unpack's rename and its
 * RELEASES write) no longer blocks that version: `relup unpack` verifies it and reuses or replaces it.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../src/net-helpers.ts";
import { readRelease } from "../../src/release/read-release.ts";
import { waitForExit } from "../../src/runtime/process-exit.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useDetachedLaunchers } from "../helpers/detached.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();

const detached = useDetachedLaunchers();

/** calculator 1.0.0 (and 1.1.0) built, 1.0.0 started detached in a fresh root. */
async function started() {
  const out = await tempDir();
  const root = path.join(await tempDir(), "root");
  expect((await relup(["build", "fixtures/calculator/1.0.0", "--out", out])).code).toBe(0);
  expect((await relup(["build", "fixtures/calculator/1.1.0", "--out", out])).code).toBe(0);
  const result = await relup(["start", path.join(out, "calculator-1.0.0.tar.gz"), "--root", root, "--detach"], { PORT: String(await freePort()) });
  expect(result.code).toBe(0);
  const launcherPid = Number((await readFile(path.join(root, "run", "launcher.pid"), "utf8")).trim());
  detached.pid(launcherPid);
  return { root, out, nodePid: Number(result.stdout.trim()), launcherPid, releases: path.join(root, "releases", "RELEASES") };
}

async function events(root: string): Promise<Record<string, unknown>[]> {
  return (await readFile(path.join(root, "log", "launcher.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The node is SIGKILLed; the launcher must end by itself, log why and leave nothing behind. */
async function killAndExpectGiveUp(root: string, nodePid: number, launcherPid: number, problem: string, spawned = 1) {
  process.kill(nodePid, "SIGKILL");
  expect(await waitForExit(launcherPid, 20_000)).toBe(true);
  expect(existsSync(path.join(root, "run", "launcher.pid"))).toBe(false);
  expect(existsSync(path.join(root, "run", "control.sock"))).toBe(false);
  const logged = await events(root);
  expect(logged).toContainEqual(expect.objectContaining({ event: "cannot restart the node", error: expect.stringContaining(problem) }));
  expect(logged.find((e) => e.event === "cannot restart the node")!.error).toContain("Fix:");
  // The first node, and a restart only when the damage shows no sooner than a boot: no restart loop.
  expect(logged.filter((e) => e.event === "node spawned")).toHaveLength(spawned);
  expect(await readFile(path.join(root, "log", "launcher.out"), "utf8")).toContain("cannot restart the node");
}

describe("a root that cannot boot", () => {
  it("RELEASES corrupted, then the node is killed: the launcher logs the file and the fix, exits, leaves no pid file or socket", async () => {
    const { root, nodePid, launcherPid, releases } = await started();
    await writeFile(releases, "{ not json");
    await killAndExpectGiveUp(root, nodePid, launcherPid, releases);
  }, 60_000);

  it("RELEASES names a release that is not on disk: no restart loop, a clear error", async () => {
    const { root, nodePid, launcherPid } = await started();
    await rename(path.join(root, "releases", "1.0.0"), path.join(root, "releases", "moved-away"));
    await killAndExpectGiveUp(root, nodePid, launcherPid, `${path.join(root, "releases", "1.0.0")} does not exist`);
    const again = await relup(["start", "--root", root, "--detach"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("does not exist");
    expect(again.stderr).not.toContain("internal error");
  }, 60_000);

  it("a permanent release whose files no longer verify (a module changed on disk): no restart loop, the file named", async () => {
    const { root, nodePid, launcherPid } = await started();
    const module = path.join(root, "releases", "1.0.0", "lib", "calculator-1.0.0", "calculator.js");
    await writeFile(module, (await readFile(module, "utf8")) + "\n// edited on the server\n");
    // The node finds it as it boots (it reads its release through the safe reader): one restart, then the end.
    await killAndExpectGiveUp(root, nodePid, launcherPid, "calculator.js", 2);
    const again = await relup(["start", "--root", root, "--detach"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("calculator.js");
  }, 60_000);

  it("a root made writable by others while the node ran: the launcher does not boot from it again", async () => {
    const { root, nodePid, launcherPid } = await started();
    await chmod(root, 0o777);
    await killAndExpectGiveUp(root, nodePid, launcherPid, `${root}: has mode 0777`);
    await chmod(root, 0o755);
  }, 60_000);

  it("RELEASES with no permanent release: `relup start --root` exits 2 with the file and the fix", async () => {
    const { root, launcherPid, releases } = await started();
    process.kill(launcherPid, "SIGTERM");
    expect(await waitForExit(launcherPid, 20_000)).toBe(true);
    const file = JSON.parse(await readFile(releases, "utf8")) as { releases: { status: string }[] };
    for (const r of file.releases) r.status = "old";
    await writeFile(releases, JSON.stringify(file));
    const result = await relup(["start", "--root", root, "--detach"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${releases}: names no permanent release`);
    expect(result.stderr).toContain("Fix:");
    expect(result.stderr).not.toContain("internal error");
  }, 60_000);
});

describe("an orphan releases/<vsn> directory", () => {
  it("the same build left by an interrupted unpack: `relup unpack` verifies it, reuses it and says so", async () => {
    const { root, out } = await started();
    const v2 = path.join(out, "calculator-1.1.0.tar.gz");
    // What an unpack that crashed after its rename leaves: the release in place, RELEASES without it.
    const left = await readRelease(v2, { into: path.join(root, "releases", "1.1.0") });
    await left.close();
    const result = await relup(["unpack", v2, "--root", root]);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining("verifies as this same build") });
    expect(result.stdout).toContain("unpacked 1.1.0");
    expect((await relup(["releases", "--root", root])).stdout).toMatch(/calculator 1\.1\.0 +unpacked/);
  }, 60_000);

  it("a directory that does not verify: replaced, with a message", async () => {
    const { root, out } = await started();
    const orphan = path.join(root, "releases", "1.1.0");
    await mkdir(orphan);
    await writeFile(path.join(orphan, "half-written"), "x");
    const result = await relup(["unpack", path.join(out, "calculator-1.1.0.tar.gz"), "--root", root]);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining("so it was replaced") });
    expect(existsSync(path.join(orphan, "half-written"))).toBe(false);
    expect(existsSync(path.join(orphan, "release.json"))).toBe(true);
    expect((await relup(["releases", "--root", root])).stdout).toMatch(/calculator 1\.1\.0 +unpacked/);
  }, 60_000);
});

describe("a launcher that cannot write its pid file", () => {
  it("stops the node it started and fails the start (exit 1), leaving nothing running that nothing could find", async () => {
    const { root, launcherPid } = await started();
    process.kill(launcherPid, "SIGTERM");
    expect(await waitForExit(launcherPid, 20_000)).toBe(true);
    // A directory in the way of run/launcher.pid: the write fails (EISDIR), as a full disk would fail it.
    await mkdir(path.join(root, "run", "launcher.pid", "in-the-way"), { recursive: true });
    const result = await relup(["start", "--root", root, "--detach"], { PORT: String(await freePort()) });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain("launcher.pid could not be written");
    expect(result.stderr).toContain("so the node was stopped");
    expect(existsSync(path.join(root, "run", "control.sock"))).toBe(false);
    expect((await relup(["status", "--root", root])).code).toBe(1);
  }, 60_000);
});
