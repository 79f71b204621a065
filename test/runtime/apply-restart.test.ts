/**
 * A plan that restarts the node (restart_new_emulator) loses every process's in-memory state, so
 * `relup apply` refuses it unless `--allow-restart` is given: the refusal says why the plan restarts,
 * which processes (per module) would lose their state, and the fix, and leaves the node and its root as
 * they were. `--dry-run` and the confirmation show the same counts.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { planReleases } from "../../src/relup/plan-releases.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { Ready } from "../../src/runtime/launcher.ts";
import { getOnNewConnection } from "../../src/net-helpers.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const npmChange = () => liveNode({ from: "fixtures/npm-restart-listed/1.0.0", to: "fixtures/npm-restart-listed/1.1.0", app: "labels" });

/** "labels/http_server 1" lines: the node's processes counted by callback module. */
async function perModule(root: string): Promise<[string, number][]> {
  const list = (await controlRequest(root, { cmd: "processes" })) as { module: string }[];
  const counts = new Map<string, number>();
  for (const p of list) counts.set(p.module, (counts.get(p.module) ?? 0) + 1);
  return [...counts];
}

async function expectUnchanged(n: Awaited<ReturnType<typeof npmChange>>) {
  expect(await controlRequest(n.root, { cmd: "status" })).toMatchObject({ pid: n.ready.pid, release: { version: "1.0.0" } });
  expect(await controlRequest(n.root, { cmd: "releases" })).toEqual([{ name: "npm-restart-listed", version: "1.0.0", status: "permanent" }]);
  expect(await getOnNewConnection(n.port, "/label/abc")).toBe("abc");
}

describe("restart plans need --allow-restart", () => {
  it("apply --yes refuses a generated restart plan (exit 1): it names the package that forces it, the processes per module that would lose state, and the fix; nothing changes", async () => {
    const n = await npmChange();
    const counts = await perModule(n.root);
    const r = await relup(["apply", n.v2, "--root", n.root, "--yes"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("this plan restarts the node");
    expect(r.stderr).toContain("npm package `tiny-pad` changes 1.0.0 → 1.1.0");
    const total = counts.reduce((a, [, c]) => a + c, 0);
    expect(r.stderr).toContain(`the in-memory state of ${total} processes is lost`);
    for (const [module, count] of counts) expect(r.stderr).toMatch(new RegExp(`${module}\\s+${count}\\b`));
    expect(r.stderr).toContain("Fix: review the plan, then apply it with --allow-restart");
    await expectUnchanged(n);
  });

  it("a restart plan given with --plan is refused the same way (library: exit code 1)", async () => {
    const n = await npmChange();
    const plan = await planReleases({ from: n.v1, to: n.v2 });
    const planFile = path.join(n.out, "relup.json");
    await writeFile(planFile, JSON.stringify(plan.file));
    const error = (await applyRelease({ root: n.root, release: n.v2, planFile, confirm: async () => true }).catch((e: Error) => e)) as Error & { exitCode: number };
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain("npm package `tiny-pad` changes 1.0.0 → 1.1.0");
    await expectUnchanged(n);
    // A restart plan that is not for this node is refused as stale, not sent to --allow-restart.
    const staleFile = path.join(n.out, "stale.json");
    await writeFile(staleFile, JSON.stringify({ ...plan.file, from: { ...plan.file.from, version: "0.9.0" } }));
    const stale = (await applyRelease({ root: n.root, release: n.v2, planFile: staleFile, confirm: async () => true }).catch((e: Error) => e)) as Error;
    expect(stale.message).toContain("stale plan: it goes between 0.9.0 and 1.1.0");
    expect(stale.message).not.toContain("--allow-restart");
    await expectUnchanged(n);
    // The node refuses it too, whoever asks: an install request must carry allowRestart.
    await controlRequest(n.root, { cmd: "unpack", source: n.v2 });
    await expect(controlRequest(n.root, { cmd: "install", version: "1.1.0", plan: plan.file })).rejects.toThrow(/restarts the node \(restart_new_emulator\).*Fix: apply it with --allow-restart/);
    expect(await controlRequest(n.root, { cmd: "status" })).toMatchObject({ pid: n.ready.pid, release: { version: "1.0.0" } });
  });

  it("--dry-run reports the restart and the processes that would lose their state, changing nothing (exit 0)", async () => {
    const n = await npmChange();
    const counts = await perModule(n.root);
    // No --yes: a dry run checks the generated plan without asking.
    const r = await relup(["apply", n.v2, "--root", n.root, "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("check passed");
    expect(r.stdout).toContain("this plan restarts the node");
    for (const [module, count] of counts) expect(r.stdout).toMatch(new RegExp(`${module}\\s+${count}\\b`));
    expect(r.stdout).toContain("--allow-restart");
    await expectUnchanged(n);
  });

  it("with --allow-restart the confirmation shows the processes that lose state, and the node restarts on the new release", async () => {
    const n = await npmChange();
    const counts = await perModule(n.root);
    const takeover = new Promise<Ready>((resolve) => n.launcher.once("ready", resolve));
    const r = await relup(["apply", n.v2, "--root", n.root, "--yes", "--allow-restart"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("this plan restarts the node");
    for (const [module, count] of counts) expect(r.stderr).toMatch(new RegExp(`${module}\\s+${count}\\b`));
    expect((await takeover).version).toBe("1.1.0");
    expect(await getOnNewConnection(n.port, "/label/abc")).toBe("abc");
  });
});

describe("a restart plan asked to hold before its point of no return", () => {
  it("holds before restart_new_emulator, the step that changes the node: abort leaves the same node on the old release", async () => {
    const n = await npmChange();
    const points: { id: string; timeoutMs: number }[] = [];
    const steps: string[] = [];
    const error = await applyRelease({ root: n.root, release: n.v2, allowRestart: true, confirm: async () => true, progress: (e) => void (e.phase === "step" && steps.push(e.op)), barrier: { hold: true, holdTimeoutMs: 20_000, decide: async (point) => (points.push(point), "abort") } }).catch((e: Error) => e);
    expect(points).toEqual([{ id: "point_of_no_return", timeoutMs: 20_000 }]);
    expect(steps).toEqual(["restart_new_emulator"]);
    expect((error as Error & { issue?: unknown }).issue).toMatchObject({ kind: "barrier-aborted", reason: "abort", index: 0, phase: "before-point-of-no-return" });
    await expectUnchanged(n);
  });
});
