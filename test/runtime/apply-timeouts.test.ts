/**
 * No install waits forever on a codeChange, on real nodes. An async codeChange that never settles fails
 * the install after its timeout (the module's codeChangeTimeout in the appup, or the install's
 * `--code-change-timeout`), naming the module and the process, and the node is rolled back in memory.
 * A synchronous codeChange that never returns blocks the node's event loop: the launcher's watchdog
 * kills it and boots the permanent release, and `relup apply` fails saying so and what was reset.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { Ready } from "../../src/runtime/launcher.ts";
import { get } from "../../src/net-helpers.ts";
import { WORKERS, writeFleet } from "../helpers/fleet.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

/** Version 2 of the fleet's worker: the migration of worker 2 hangs, asynchronously or synchronously. */
const hangingWorker = (how: "async" | "sync") => `
export const behaviour = "server";
export const vsn = 2;
export function init(args: { id: number }) { return { id: args.id, count: 0, v: 2 }; }
export function handleCall(req: string, _from: unknown, state: any) {
  if (req === "code") return { reply: 2, state };
  return { reply: state, state };
}
export function codeChange(_old: unknown, state: any) {
  if (state.id === 2) { ${how === "async" ? "return new Promise(() => {});" : "for (;;) {}"} }
  return { ...state, v: 2 };
}
`;

const appupWith = (codeChangeTimeout: number) => {
  const update = { op: "update", module: "worker", change: { advanced: {} }, codeChangeTimeout };
  return { format: 1, application: "fleet", version: "2.0.0", up: [{ from: "1.0.0", instructions: [update] }], down: [{ to: "1.0.0", instructions: [update] }] };
};

async function fleet(how: "async" | "sync", appup?: object, launcher = {}) {
  const dir = await tempDir();
  const v2 = { worker: hangingWorker(how), ...(appup ? { extraFiles: { "apps/fleet/appup.json": appup } } : {}) };
  const node = await liveNode({ dir, from: await writeFleet(dir, { version: "1.0.0" }), to: await writeFleet(dir, { version: "2.0.0", ...v2 }), app: "fleet", launcher });
  const json = async (p: string) => JSON.parse(await get(node.port, p));
  await json("/bump");
  return { ...node, json };
}

/** 1.0.0 runs as before, in the same OS process, every worker with its state. */
async function expectRolledBack(f: Awaited<ReturnType<typeof fleet>>) {
  expect(await f.json("/code")).toEqual(Array(WORKERS).fill(1));
  expect(await f.json("/bump")).toEqual(Array(WORKERS).fill(2));
  expect(await controlRequest(f.root, { cmd: "status" })).toMatchObject({ pid: f.ready.pid, release: { version: "1.0.0" } });
  const processes = (await controlRequest(f.root, { cmd: "processes" })) as { status: string }[];
  expect(processes.every((p) => p.status === "running")).toBe(true);
}

const TIMED_OUT = /step \d+ \(code_change\) at module fleet\/worker, process <0\.\d+\.0> failed: codeChange failed for process 3 of 5: codeChange of process <0\.\d+\.0> \(fleet\/worker\) did not settle within 300 ms; the install is rolled back/;

describe("codeChange timeouts", () => {
  it("an async codeChange that never settles fails the install after the appup's codeChangeTimeout; the node is rolled back", async () => {
    const f = await fleet("async", appupWith(300));
    const error = await applyRelease({ root: f.root, release: f.v2, confirm: async () => true }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(TIMED_OUT);
    await expectRolledBack(f);
    // The release handler is not held by a hung install: it answers, and the release the failed attempt
    // unpacked was removed again.
    expect(await controlRequest(f.root, { cmd: "releases" })).toEqual([{ name: "fleet", version: "1.0.0", status: "permanent" }]);
  });

  it("relup apply --code-change-timeout overrides the plan's timeout for the install (exit 1); a bad value is bad usage (exit 2)", async () => {
    const f = await fleet("async", appupWith(600_000));
    const bad = await relup(["apply", f.v2, "--root", f.root, "--yes", "--code-change-timeout", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--code-change-timeout "0" is not a timeout');
    const r = await relup(["apply", f.v2, "--root", f.root, "--yes", "--code-change-timeout", "300"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(TIMED_OUT);
    await expectRolledBack(f);
  });
});

describe("a codeChange that never returns (a synchronous loop)", () => {
  it("the launcher's watchdog kills the stuck node and boots the permanent release; apply fails (exit 1) saying what was reset", async () => {
    const f = await fleet("sync", undefined, { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 2_000 });
    const processCount = ((await controlRequest(f.root, { cmd: "status" })) as { processCount: number }).processCount;
    const restarted = new Promise<Ready>((resolve) => f.launcher.once("ready", resolve));
    const r = await relup(["apply", f.v2, "--root", f.root, "--yes", "--permanent"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the node (pid ${f.ready.pid}) died while it installed 2.0.0, at step 5/6 (code_change up fleet/worker): it stopped answering its launcher`);
    const again = await restarted;
    expect(r.stderr).toContain(`the node was restarted on the permanent release 1.0.0 (pid ${again.pid}); the in-memory state of ${processCount} processes was reset`);
    expect(again.version).toBe("1.0.0");
    expect(await f.json("/code")).toEqual(Array(WORKERS).fill(1));
    expect(await f.json("/bump")).toEqual(Array(WORKERS).fill(1));
    const log = (await readFile(path.join(f.root, "log", "launcher.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(log).toContainEqual(expect.objectContaining({ event: "node unresponsive", pid: f.ready.pid, limitMs: 2_000, action: "killed; restarting on the permanent release" }));
    // What the killed node had staged for --permanent (RELEASES, its install record) is gone, and RELEASES kept 1.0.0.
    const staged = [...(await readdir(path.join(f.root, "run"))), ...(await readdir(path.join(f.root, "releases")))].filter((name) => name.endsWith(".tmp"));
    expect(staged).toEqual([]);
    expect(await readFile(path.join(f.root, "releases", "RELEASES"), "utf8")).toMatch(/"version": "1\.0\.0",\s+"status": "permanent"/);
  });

  it("relup start refuses a heartbeat timeout that is not whole milliseconds (exit 2)", async () => {
    const r = await relup(["start", "--root", await tempDir(), "--heartbeat-timeout", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--heartbeat-timeout 0 is not a timeout");
  });
});
