/**
 * The fault matrix of `relup apply`, on real nodes over the control socket: each case makes one thing
 * fail during an install and checks that the node is back exactly as it was, serving the old release,
 * with every process's state intact and every message sent during the attempt handled once.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { exitCodeOf } from "../../src/cli/exit-code.ts";
import { planReleases } from "../../src/relup/plan-releases.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import { readReleasesFile } from "../../src/runtime/releases-file.ts";
import { SUP, WORKERS, workerV2, writeFleet, type FleetSpec } from "../helpers/fleet.ts";
import { get } from "../../src/net-helpers.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

async function fleet(v2: Omit<FleetSpec, "version">) {
  const dir = await tempDir();
  const node = await liveNode({ dir, from: await writeFleet(dir, { version: "1.0.0" }), to: await writeFleet(dir, { version: "2.0.0", ...v2 }), app: "fleet" });
  const json = async (p: string) => JSON.parse(await get(node.port, p));
  await json("/bump");
  await json("/bump");
  return { ...node, json, pid: node.ready.pid };
}

const apply = (root: string, release: string, extra: Partial<Parameters<typeof applyRelease>[0]> = {}) => applyRelease({ root, release, confirm: async () => true, ...extra });

/** The node runs 1.0.0 as before: old code, old states (count 3 after the bump sent during the attempt). */
async function expectUntouched(f: Awaited<ReturnType<typeof fleet>>, count = 3) {
  expect(await f.json("/code")).toEqual(Array(WORKERS).fill(1));
  expect(await f.json("/state")).toEqual(Array.from({ length: WORKERS }, (_, id) => ({ id, count })));
  const status = (await controlRequest(f.root, { cmd: "status" })) as { pid: number; release: { version: string }; modules: { module: string; current: { vsn: unknown }; old: unknown }[] };
  expect(status.pid).toBe(f.pid);
  expect(status.release.version).toBe("1.0.0");
  expect(status.modules.find((m) => m.module === "fleet/worker")).toMatchObject({ current: { vsn: 1 }, old: null });
  // The release the failed attempt unpacked is gone again: the root holds what it held.
  expect((await readReleasesFile(f.root))?.releases.map((r) => r.version)).toEqual(["1.0.0"]);
}

describe("relup apply: failures roll the node back", () => {
  it.each([
    ["the first", 0],
    ["a middle", 2],
    ["the last", WORKERS - 1],
  ])("codeChange throws at %s process, on the way up", async (_which, id) => {
    const f = await fleet({ worker: workerV2([id]) });
    const during = f.json("/bump");
    const error = await apply(f.root, f.v2).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(new RegExp(`code_change\\) at module fleet/worker, process <0\\.\\d+\\.0> failed: codeChange failed for process ${id + 1} of ${WORKERS}: cannot migrate worker ${id}`));
    expect(await during).toEqual(Array(WORKERS).fill(3));
    await expectUntouched(f);
  });

  it.each([
    ["the first", 0],
    ["a middle", 2],
    ["the last", WORKERS - 1],
  ])("codeChange throws at %s process, on the way down (rollback of an upgrade)", async (_which, id) => {
    const f = await fleet({ worker: workerV2([], [id]) });
    await apply(f.root, f.v2);
    expect(await f.json("/code")).toEqual(Array(WORKERS).fill(2));
    const during = f.json("/bump");
    const error = await controlRequest(f.root, { cmd: "rollback" }).catch((e: Error) => e);
    expect((error as Error).message).toContain(`cannot migrate worker ${id} down`);
    expect(await during).toEqual(Array(WORKERS).fill(3));
    expect(await f.json("/code")).toEqual(Array(WORKERS).fill(2));
    expect(await f.json("/state")).toEqual(Array.from({ length: WORKERS }, (_, i) => ({ id: i, count: 3, v: 2 })));
  });

  it("a suspend that times out aborts the install", async () => {
    const update = { op: "update", module: "worker", change: { advanced: {} }, timeout: 200 };
    const appup = { format: 1, application: "fleet", version: "2.0.0", up: [{ from: "1.0.0", instructions: [update] }], down: [{ to: "1.0.0", instructions: [update] }] };
    const f = await fleet({ worker: workerV2(), extraFiles: { "apps/fleet/appup.json": appup } });
    // w1 stays in one handler until /unblock: it cannot suspend within 200 ms.
    const blocked = get(f.port, "/block/1", 60_000);
    const error = await apply(f.root, f.v2).catch((e: Error) => e);
    expect(await get(f.port, "/unblock")).toBe('"ok"');
    expect((error as Error).message).toMatch(/step 3 \(suspend\) at module fleet\/worker, process <0\.\d+\.0> failed: process <0\.\d+\.0> \(fleet\/worker\) did not suspend within 200 ms/);
    // The node's answer carries the failure as data, over the socket: the step, where, and which side of the point of no return.
    expect(error).toMatchObject({ issue: { kind: "install-failed", index: 2, op: "suspend", module: "fleet/worker", phase: "after-point-of-no-return", killed: [], rollbackFailures: [] } });
    expect(await blocked).toBe('"unblocked"');
    const during = f.json("/bump");
    expect(await during).toEqual(Array(WORKERS).fill(3));
    await expectUntouched(f);
  });

  it("a new module that fails to load aborts the install after the point of no return", async () => {
    const f = await fleet({ worker: workerV2(), extraFiles: { "apps/fleet/web.ts": "throw new Error('web 2.0.0 is broken');" } });
    const error = await apply(f.root, f.v2).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/\(load\) at module fleet\/web failed: fleet\/web: failed while loading: web 2.0.0 is broken/);
    await f.json("/bump");
    await expectUntouched(f);
  });

  it("an apply that throws (the application's configChange) aborts the install and puts the env back", async () => {
    const app = `import { startSupervisor } from "relup/runtime";
export const behaviour = "application";
export function start(env: { port: number; workers: number }) { return startSupervisor("sup", env); }
export function configChange() { throw new Error("configChange refused"); }`;
    const f = await fleet({ worker: workerV2(), env: { mode: "fast" }, extraFiles: { "apps/fleet/app.ts": app } });
    const error = await apply(f.root, f.v2).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/\(apply\) .*failed: configChange refused/);
    expect(await f.json("/env")).toEqual({ port: f.port, workers: WORKERS });
    await f.json("/bump");
    await expectUntouched(f);
  });

  it("a new child whose init crashes aborts the install; no new child is left running", async () => {
    const crashing = `export const behaviour = "server"; export function init() { throw new Error("extra cannot start"); } export function handleCall(r: unknown, f: unknown, s: unknown) { return { reply: null, state: s }; }`;
    const f = await fleet({ worker: workerV2(), sup: SUP(`{ id: "extra", module: "extra", name: "extra", args: {} }`), extraFiles: { "apps/fleet/extra.ts": crashing } });
    const before = (await controlRequest(f.root, { cmd: "processes" })) as { pid: string }[];
    const error = await apply(f.root, f.v2).catch((e: Error) => e);
    expect((error as Error).message).toContain("extra cannot start");
    const after = (await controlRequest(f.root, { cmd: "processes" })) as { pid: string; module: string }[];
    expect(after.map((p) => p.pid)).toEqual(before.map((p) => p.pid));
    expect(after.some((p) => p.module === "fleet/extra")).toBe(false);
    await f.json("/bump");
    await expectUntouched(f);
  });
});

describe("relup apply: plans that are not for this node are refused before step one", () => {
  it("a stale plan: made for another build of the running release", async () => {
    const f = await fleet({ worker: workerV2() });
    const plan = await planReleases({ from: f.v1, to: f.v2 });
    const planFile = path.join(f.out, "relup.json");
    await writeFile(planFile, JSON.stringify({ ...plan.file, from: { ...plan.file.from, identity: "0".repeat(64) } }));
    const error = await apply(f.root, f.v2, { planFile }).catch((e: Error) => e);
    expect((error as Error).message).toContain("stale plan: it was made for another build of 1.0.0");
    await f.json("/bump");
    await expectUntouched(f);
  });

  it("a stale plan: from another running version", async () => {
    const f = await fleet({ worker: workerV2() });
    const plan = await planReleases({ from: f.v1, to: f.v2 });
    const planFile = path.join(f.out, "relup.json");
    await writeFile(planFile, JSON.stringify({ ...plan.file, from: { ...plan.file.from, version: "0.9.0" } }));
    expect(((await apply(f.root, f.v2, { planFile }).catch((e: Error) => e)) as Error).message).toMatch(/stale plan: it goes between 0\.9\.0 and 2\.0\.0, but the node runs 1\.0\.0 .*Fix: generate the plan between the running release and the target/);
    await f.json("/bump");
    await expectUntouched(f);
  });

  it("a plan for another release", async () => {
    const f = await fleet({ worker: workerV2() });
    const plan = await planReleases({ from: f.v1, to: f.v2 });
    const planFile = path.join(f.out, "relup.json");
    await writeFile(planFile, JSON.stringify({ ...plan.file, release: "other" }));
    expect(((await apply(f.root, f.v2, { planFile }).catch((e: Error) => e)) as Error).message).toContain("the plan is for release other; this node runs fleet");
  });

  it("a tampered tarball is refused by unpack (exit 2) and leaves nothing in the root", async () => {
    const f = await fleet({ worker: workerV2() });
    const bytes = await readFile(f.v2);
    const tampered = path.join(f.out, "tampered.tar.gz");
    await writeFile(tampered, bytes.subarray(0, bytes.length - 100));
    const error = (await apply(f.root, tampered).catch((e: Error) => e)) as Error;
    expect(exitCodeOf(error)).toBe(2);
    expect(error).toMatchObject({ issue: { kind: "release" } });
    expect(error.message).toContain("is not a complete .tar.gz release");
    expect((await readReleasesFile(f.root))?.releases.map((r) => r.version)).toEqual(["1.0.0"]);
    const { readdir } = await import("node:fs/promises");
    expect((await readdir(path.join(f.root, "releases"))).sort()).toEqual(["1.0.0", "RELEASES"]);
    await expectUntouched(f, 2);
  });
});
