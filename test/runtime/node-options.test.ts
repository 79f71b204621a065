/**
 * `relup start --node-option <flag>`: V8 flags for the node, checked against an allow-list. The node a
 * detached launcher starts runs with them, and so does the node it restarts after a kill, and the
 * successor of a restart_new_emulator; a flag that is not allowed is refused with exit 2 before anything
 * is written or started. The node reports its flags and its heap limit through `metrics`, and the
 * collector's pauses and the longest block of a window opened with `blocks`.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { Ready } from "../../src/runtime/launcher.ts";
import type { MetricsResult } from "../../src/runtime/control-protocol.ts";
import { waitForExit } from "../../src/runtime/process-exit.ts";
import { freePort } from "../../src/net-helpers.ts";
import { useDetachedLaunchers } from "../helpers/detached.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { relup } from "../helpers/relup-cli.ts";
import { copyRestartPair } from "../helpers/restart-pair.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const detached = useDetachedLaunchers();
const liveNode = useLiveNodes(tempDir);
let buildDir: string;
let tarball: string;

beforeAll(async () => {
  buildDir = await mkdtemp(path.join(os.tmpdir(), "relup-node-options-"));
  expect((await relup(["build", "fixtures/calculator/1.0.0", "--out", buildDir])).code).toBe(0);
  tarball = path.join(buildDir, "calculator-1.0.0.tar.gz");
});
afterAll(async () => {
  await rm(buildDir, { recursive: true, force: true });
});

const MB = 2 ** 20;
const metrics = (root: string, request: { reset?: boolean; blocks?: boolean; gc?: boolean } = {}) => controlRequest(root, { cmd: "metrics", ...request }) as Promise<MetricsResult>;

/** The node's pid once a node other than `old` answers on the root's control socket (the launcher restarted it). */
async function nextNode(root: string, old: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = (await controlRequest(root, { cmd: "status" }).catch(() => undefined)) as { pid?: number } | undefined;
    if (status?.pid !== undefined && status.pid !== old) return status.pid;
    if (Date.now() > deadline) throw new Error(`no node other than ${old} answered in ${root} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("relup start --node-option", () => {
  it("--detach: the node runs with the flags, and so does the node the launcher restarts after a kill", async () => {
    const root = path.join(await tempDir(), "root");
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, "config.json"), JSON.stringify({ calculator: { port: await freePort() } }));
    const start = await relup(["start", tarball, "--root", root, "--detach", "--node-option", "--max-old-space-size=123", "--node-option=--expose-gc", "--node-option", "--max_semi_space_size=2"]);
    expect(start).toMatchObject({ code: 0 });
    detached.root(root);
    const pid = Number(start.stdout.trim());
    const first = await metrics(root, { gc: true });
    expect(first.execArgv).toEqual(expect.arrayContaining(["--max-old-space-size=123", "--expose-gc", "--max-semi-space-size=2"]));
    expect(first.gc).toBe(true);
    // The old generation's 123 MB and a young generation of three 2 MB semi-spaces (V8's own sizing).
    expect(first.heapSizeLimit).toBeGreaterThanOrEqual(123 * MB);
    expect(first.heapSizeLimit).toBeLessThan(140 * MB);
    // The forced collection is a pause the node counted (V8 reports it after the pause, by the next request).
    expect((await metrics(root)).gcPauses.count).toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    expect(await waitForExit(pid, 10_000)).toBe(true);
    await nextNode(root, pid);
    const restarted = await metrics(root);
    expect(restarted.execArgv).toEqual(expect.arrayContaining(["--max-old-space-size=123", "--expose-gc", "--max-semi-space-size=2"]));
    expect(restarted.heapSizeLimit).toBe(first.heapSizeLimit);
  }, 60_000);

  it.each([
    ["--inspect", "not a flag relup passes to the node"],
    ["--require=/tmp/x.js", "not a flag relup passes to the node"],
    ["--stack-size=4000", "not a flag relup passes to the node"],
    ["--max-old-space-size=lots", "--max-old-space-size needs a positive whole number"],
    ["--expose-gc=1", "--expose-gc takes no value"],
    ["--heap-snapshot-signal=SIGTERM", "--heap-snapshot-signal needs one of SIGUSR2"],
  ])("refuses %s with exit 2, naming it, the allowed flags and the fix; nothing is written", async (flag, why) => {
    const root = path.join(await tempDir(), "root");
    const result = await relup(["start", tarball, "--root", root, "--detach", "--node-option", flag]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--node-option ${JSON.stringify(flag)}: ${why}`);
    expect(result.stderr).toContain("--max-old-space-size=N, --max-semi-space-size=N, --expose-gc, --trace-gc");
    expect(result.stderr).toContain("Fix:");
    expect(result.stderr).not.toContain("internal error");
    expect(existsSync(root)).toBe(false);
  });

  it("the successor of a restart_new_emulator runs with the launcher's flags", async () => {
    const dir = await tempDir();
    const n = await liveNode({ ...(await copyRestartPair(dir)), app: "labels", dir, launcher: { nodeOptions: ["--max-old-space-size=150"] } });
    expect((await metrics(n.root)).execArgv).toContain("--max-old-space-size=150");
    const takeover = new Promise<Ready>((resolve) => n.launcher.once("ready", resolve));
    await applyRelease({ root: n.root, release: n.v2, allowRestart: true, confirm: async () => true });
    const successor = await takeover;
    expect(successor.pid).not.toBe(n.ready.pid);
    const after = await metrics(n.root);
    expect(after.execArgv).toContain("--max-old-space-size=150");
    expect(after.heapSizeLimit).toBeGreaterThanOrEqual(150 * MB);
    expect(after.heapSizeLimit).toBeLessThan(1024 * MB);
  }, 60_000);
});

describe("metrics: the collector's pauses and the longest block", () => {
  it("a window opened with blocks finds a block the node's own loop made, and how much of it was GC", async () => {
    const dir = await tempDir();
    const n = await liveNode({ ...(await copyRestartPair(dir)), app: "labels", dir, launcher: { nodeOptions: ["--expose-gc"] } });
    expect((await metrics(n.root, { reset: true, blocks: true })).longestBlock).toBeUndefined();
    // A forced full collection blocks the loop: it is the window's longest block (or inside it), all GC.
    await metrics(n.root, { gc: true });
    const read = await metrics(n.root);
    expect(read.gcPauses.count).toBeGreaterThan(0);
    expect(read.gcPauses.maxMs).toBeGreaterThan(0);
    expect(read.gcPauses.totalMs).toBeGreaterThanOrEqual(read.gcPauses.maxMs);
    expect(read.longestBlock).toBeDefined();
    // The loop reaches no timer during a pause: the block around the longest pause is at least as long.
    expect(read.longestBlock!.ms).toBeGreaterThanOrEqual(read.gcPauses.maxMs);
    expect(read.longestBlock!.gcMs).toBeLessThanOrEqual(read.longestBlock!.ms);
    // What else it says: the node's CPU time meanwhile (all its threads) and the preemptions the OS made.
    expect(read.longestBlock).toMatchObject({ cpuMs: expect.any(Number), preempted: expect.any(Number) });
    // A reset without blocks closes the window.
    await metrics(n.root, { reset: true });
    expect((await metrics(n.root)).longestBlock).toBeUndefined();
  }, 60_000);
});
