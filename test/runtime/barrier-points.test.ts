/**
 * Barrier points on real nodes: an install asked to hold before its point of no return (what a fleet
 * rollout's prepare does) waits there, with its code read and nothing running changed, until a `barrier`
 * decision comes from any connection: go installs, abort or the node's own timeout fails the install
 * and leaves the node exactly as it was (release, module versions, process states and statuses). A
 * hand-written appup's sync_nodes is a barrier point of the same kind where its author put it; a plain
 * apply passes it at once, and says so.
 */
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { get } from "../../src/net-helpers.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { Progress } from "../../src/runtime/executor.ts";
import { RuntimeError } from "../../src/runtime/issues/runtime-error.ts";
import { readReleasesFile } from "../../src/runtime/releases-file.ts";
import type { BarrierDecision, BarrierPoint } from "../../src/runtime/steps/barrier.ts";
import { WORKERS, workerV2, writeFleet } from "../helpers/fleet.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

/** Version 2's hand-written appup: the workers migrate, then every node of the wave meets at `workers-migrated`. */
const SYNC_APPUP = {
  format: 1,
  application: "fleet",
  version: "2.0.0",
  up: [{ from: "1.0.0", instructions: [{ op: "update", module: "worker", change: { advanced: null } }, { op: "sync_nodes", id: "workers-migrated", timeoutMs: 20_000 }] }],
  down: [{ to: "1.0.0", instructions: [{ op: "update", module: "worker", change: { advanced: null } }] }],
};

async function fleet(options: { syncNodes?: boolean } = {}) {
  const dir = await tempDir();
  const v2 = { version: "2.0.0", worker: workerV2(), ...(options.syncNodes ? { extraFiles: { "apps/fleet/appup.json": SYNC_APPUP } } : {}) };
  const node = await liveNode({ dir, from: await writeFleet(dir, { version: "1.0.0" }), to: await writeFleet(dir, v2), app: "fleet" });
  const json = async (p: string) => JSON.parse(await get(node.port, p)) as unknown;
  await json("/bump");
  return { ...node, json };
}

type Fleet = Awaited<ReturnType<typeof fleet>>;

/** What "unchanged" compares: the release, the worker module's versions, every process (pid, module, status) and every worker's state. */
async function snapshot(f: Fleet) {
  const status = await controlRequest(f.root, { cmd: "status" });
  const processes = (await controlRequest(f.root, { cmd: "processes" })).map((p) => ({ pid: p.pid, module: p.module, status: p.status }));
  return {
    pid: status.pid,
    release: status.release.version,
    worker: status.modules.find((m) => m.module === "fleet/worker"),
    processes,
    code: await f.json("/code"),
    states: await f.json("/state"),
    releases: (await readReleasesFile(f.root))?.releases.map((r) => [r.version, r.status]),
  };
}

function hold(f: Fleet, decide: (point: BarrierPoint) => Promise<BarrierDecision>, holdTimeoutMs = 30_000) {
  const events: Progress[] = [];
  const notes: string[] = [];
  const applied = applyRelease({ root: f.root, release: f.v2, confirm: async () => true, progress: (e) => events.push(e), note: (n) => notes.push(n), barrier: { hold: true, holdTimeoutMs, decide } });
  return { applied, events, notes };
}

/** The steps the node started before it held: only reading code, nothing that changes the running node. */
const stepsBeforeBarrier = (events: Progress[]) => events.slice(0, events.findIndex((e) => e.phase === "barrier")).flatMap((e) => (e.phase === "step" ? [e.op] : []));

describe("holding an install before its point of no return", () => {
  it("waits there with nothing changed; go installs the release", async () => {
    const f = await fleet();
    const before = await snapshot(f);
    let whileHeld: Awaited<ReturnType<typeof snapshot>> | undefined;
    const run = hold(f, async (point) => {
      expect(point).toEqual({ id: "point_of_no_return", timeoutMs: 30_000 });
      // Held: the new code is read, the node still runs the old one and serves (a bump goes through).
      whileHeld = await snapshot(f);
      expect(await f.json("/bump")).toEqual(Array(WORKERS).fill(2));
      return "go";
    });
    const result = await run.applied;
    expect(result).toMatchObject({ from: "1.0.0", to: "2.0.0", dryRun: false });
    expect({ ...whileHeld, releases: undefined }).toEqual({ ...before, releases: undefined });
    expect(new Set(stepsBeforeBarrier(run.events))).toEqual(new Set(["load_object_code", "point_of_no_return"]));
    expect(run.events).toContainEqual({ phase: "barrier", barrier: { id: "point_of_no_return", timeoutMs: 30_000 }, waits: true });
    expect(run.events).toContainEqual(expect.objectContaining({ phase: "barrier-decided", id: "point_of_no_return", decision: "go" }));
    expect(await f.json("/code")).toEqual(Array(WORKERS).fill(2));
    expect(await f.json("/state")).toEqual(Array.from({ length: WORKERS }, (_, id) => ({ id, count: 2, v: 2 })));
    expect((await controlRequest(f.root, { cmd: "status" })).release.version).toBe("2.0.0");
  }, 120_000);

  it("abort: the install fails as barrier-aborted and the node is exactly as it was", async () => {
    const f = await fleet();
    const before = await snapshot(f);
    const error = await hold(f, async () => "abort").applied.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).issue).toMatchObject({ kind: "barrier-aborted", id: "point_of_no_return", reason: "abort", phase: "before-point-of-no-return", rollbackFailures: [] });
    expect((error as Error).message).toMatch(/held at barrier point_of_no_return .* was aborted/);
    expect(await snapshot(f)).toEqual(before);
  }, 120_000);

  it("no decision: the node aborts by itself at the hold's timeout, and nothing changed", async () => {
    const f = await fleet();
    const before = await snapshot(f);
    const error = await hold(f, () => new Promise<BarrierDecision>(() => {}), 500).applied.catch((e: unknown) => e);
    expect((error as RuntimeError).issue).toMatchObject({ kind: "barrier-aborted", id: "point_of_no_return", reason: "timeout", timeoutMs: 500 });
    expect((error as Error).message).toMatch(/no decision within 500 ms, and the node aborted it by itself/);
    expect(await snapshot(f)).toEqual(before);
    // The point is gone with the install: a late decision is refused, and decides nothing.
    await expect(controlRequest(f.root, { cmd: "barrier", barrier: "point_of_no_return", decision: "go" })).rejects.toMatchObject({ issue: { kind: "no-barrier", id: "point_of_no_return" } });
  }, 120_000);

  it("while held, a second install and a rollback are refused at once; a decision from another connection releases it", async () => {
    const f = await fleet();
    let held!: (point: BarrierPoint) => void;
    const reached = new Promise<BarrierPoint>((resolve) => (held = resolve));
    // The caller never decides: the test does, from its own connection.
    const run = hold(f, (point) => {
      held(point);
      return new Promise<BarrierDecision>(() => {});
    });
    await reached;
    const journal = await controlRequest(f.root, { cmd: "journal" });
    const id = journal.records.at(-1)!.id;
    const plan = (await controlRequest(f.root, { cmd: "journal", plans: [id] })).plans[String(id)]!;
    await expect(controlRequest(f.root, { cmd: "install", version: "2.0.0", plan })).rejects.toMatchObject({ issue: { kind: "barrier-held", cmd: "install", id: "point_of_no_return" } });
    const refused = await controlRequest(f.root, { cmd: "rollback" }).then(() => undefined, (e: Error) => e);
    expect(refused?.message).toMatch(/refused: an install holds at barrier point_of_no_return .* Nothing was changed/);
    await expect(controlRequest(f.root, { cmd: "barrier", barrier: "other", decision: "go" })).rejects.toMatchObject({ issue: { kind: "no-barrier", id: "other", held: "point_of_no_return" } });
    expect(await controlRequest(f.root, { cmd: "barrier", barrier: "point_of_no_return", decision: "go" })).toEqual({ barrier: "point_of_no_return", decision: "go" });
    expect(await run.applied).toMatchObject({ to: "2.0.0" });
  }, 120_000);
});

describe("a sync_nodes instruction of a hand-written appup", () => {
  it("holds where the author put it (after the workers migrated); abort rolls the node back to exactly as it was", async () => {
    const f = await fleet({ syncNodes: true });
    const before = await snapshot(f);
    const points: BarrierPoint[] = [];
    const events: Progress[] = [];
    const error = await applyRelease({ root: f.root, release: f.v2, confirm: async () => true, progress: (e) => events.push(e), barrier: { decide: async (point) => (points.push(point), "abort") } }).catch((e: unknown) => e);
    // No hold was asked for: the plan's own barrier is the one point, after the code changed.
    expect(points).toEqual([{ id: "workers-migrated", timeoutMs: 20_000 }]);
    expect(stepsBeforeBarrier(events)).toEqual(["load_object_code", "point_of_no_return", "suspend", "load", "code_change", "resume", "sync_nodes"]);
    expect((error as RuntimeError).issue).toMatchObject({ kind: "barrier-aborted", id: "workers-migrated", reason: "abort", phase: "after-point-of-no-return", rollbackFailures: [] });
    expect(await snapshot(f)).toEqual(before);
  }, 120_000);

  it("go at the barrier installs the release", async () => {
    const f = await fleet({ syncNodes: true });
    const result = await applyRelease({ root: f.root, release: f.v2, confirm: async () => true, barrier: { decide: async () => "go" } });
    expect(result).toMatchObject({ from: "1.0.0", to: "2.0.0" });
    expect(await f.json("/state")).toEqual(Array.from({ length: WORKERS }, (_, id) => ({ id, count: 1, v: 2 })));
  }, 120_000);

  it("a plain relup apply passes it at once, with a note", async () => {
    const f = await fleet({ syncNodes: true });
    const notes: string[] = [];
    const events: Progress[] = [];
    const result = await applyRelease({ root: f.root, release: f.v2, confirm: async () => true, note: (n) => notes.push(n), progress: (e) => events.push(e) });
    expect(result).toMatchObject({ to: "2.0.0" });
    expect(events).toContainEqual({ phase: "barrier", barrier: { id: "workers-migrated", timeoutMs: 20_000 }, waits: false });
    expect(notes).toContain("barrier workers-migrated (sync_nodes) released at once: a plain apply has no other nodes to wait for (a fleet rollout synchronises its wave there)");
    expect(await f.json("/code")).toEqual(Array(WORKERS).fill(2));
  }, 120_000);
});
