/**
 * The read-only control commands `relup observe` is built on, on real nodes over the control socket:
 * the supervision tree, processes aggregated per module and paged, the install journal (each step's
 * start and end, suspend windows, migrated counts, the point of no return, a rollback) followed with a
 * cursor, and the second-by-second samples. None of them changes the node.
 */
import path from "node:path";
import v8 from "node:v8";
import { describe, expect, it, vi } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { get } from "../../src/net-helpers.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { InstallRecord } from "../../src/runtime/install-journal.ts";
import type { TreeNode } from "../../src/runtime/supervision-tree.ts";
import { startSupervisor } from "../../src/runtime/supervisor.ts";
import { subtree } from "../../src/runtime/supervision-tree.ts";
import { processSummary } from "../../src/runtime/process-query.ts";
import { workerV2, writeFleet, WORKERS } from "../helpers/fleet.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { testRuntime } from "../helpers/runtime.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const FIXTURES = path.resolve("fixtures");

const calculator = () => liveNode({ from: path.join(FIXTURES, "calculator", "1.0.0"), to: path.join(FIXTURES, "calculator", "1.1.0"), app: "calculator" });
const apply = (root: string, release: string) => applyRelease({ root, release, confirm: async () => true });

describe("read-only control commands for relup observe", () => {
  it("tree: each application's supervision tree, with child ids, modules, pids and restarts", async () => {
    const n = await calculator();
    const answer = await controlRequest(n.root, { cmd: "tree" });
    if (!("applications" in answer)) throw new Error("expected the trees of the applications");
    expect(answer.applications).toHaveLength(1);
    const app = answer.applications[0]!;
    expect(app).toMatchObject({ name: "calculator", version: "1.0.0", status: "running" });
    const top = app.top!;
    expect(top).toMatchObject({ module: "calculator/sup", behaviour: "supervisor", status: "running", offset: 0 });
    expect(top.childCount).toBe(top.children!.length);
    const processes = await controlRequest(n.root, { cmd: "processes" });
    for (const child of top.children!) {
      expect(child).toMatchObject({ restarts: 0, restart: expect.any(String), id: expect.any(String) });
      expect(processes.find((p) => p.pid === child.pid)?.module).toBe(child.module);
    }
    // One process's subtree, by pid; a pid that is not alive has none.
    expect(await controlRequest(n.root, { cmd: "tree", pid: top.pid! })).toEqual({ node: top });
    expect(await controlRequest(n.root, { cmd: "tree", pid: "<0.999999.0>" })).toEqual({ node: null });
  }, 60_000);

  it("tree: children past the limit are counted, not listed; a restarted child counts its restarts", async () => {
    const worker = `exports.behaviour = "server"; exports.init = () => ({}); exports.handleCall = (req, from, state) => { if (req === "crash") throw new Error("crash"); return { reply: "ok", state }; };`;
    const children = Array.from({ length: 30 }, (_, i) => ({ id: `w${i}`, module: "worker", name: `w${i}` }));
    const { runtime } = testRuntime({ "a/worker": worker, "a/sup": `exports.behaviour = "supervisor"; exports.init = () => ({ intensity: 5, children: ${JSON.stringify(children)} });` });
    const sup = await startSupervisor(runtime, "a/sup", {});
    await runtime.call("w3", "crash").catch(() => undefined);
    await runtime.call(sup.pid, { op: "which_children" });
    const page = subtree(runtime, sup.pid, { limit: 10, offset: 0 })!;
    expect(page).toMatchObject({ childCount: 30, offset: 0 });
    expect(page.children!.map((c) => c.id)).toEqual(children.slice(0, 10).map((c) => c.id));
    expect(page.children!.find((c) => c.id === "w3")).toMatchObject({ restarts: 1, status: "running" });
    expect(page.children!.find((c) => c.id === "w2")).toMatchObject({ restarts: 0 });
    const next = subtree(runtime, sup.pid, { limit: 10, offset: 25 })!;
    expect(next.children!.map((c: TreeNode) => c.id)).toEqual(["w25", "w26", "w27", "w28", "w29"]);
    // Past the budget, a supervisor is listed without its children: a reader asks for them by pid.
    // Per module: the workers' states are measured (serialized size, sampled), the supervisor's is not.
    const summary = await processSummary(runtime);
    expect(summary.modules.map((m) => [m.module, m.count])).toEqual([["a/worker", 30], ["a/sup", 1]]);
    expect(summary.modules[0]!.stateBytes).toBe(30 * v8.serialize({}).length);
    expect(summary.modules[1]!.stateBytes).toBeUndefined();
    const bare = subtree(runtime, sup.pid, { budget: 1 })!;
    expect(bare.childCount).toBe(30);
    expect(bare.children).toBeUndefined();
  });

  it("process-summary and process-page: per module, and one page at a time with the number that match", async () => {
    const n = await calculator();
    const processes = await controlRequest(n.root, { cmd: "processes" });
    const summary = await controlRequest(n.root, { cmd: "process-summary" });
    expect(summary.total).toBe(processes.length);
    expect(summary.byStatus.running).toBe(processes.length);
    for (const m of summary.modules) {
      const mine = processes.filter((p) => p.module === m.module);
      expect(m).toMatchObject({ count: mine.length, suspended: 0, maxQueue: 0, queued: 0 });
    }
    // A state's size is its serialized copy's: a server holding a socket has none, and a supervisor's is not measured.
    expect(summary.modules.find((m) => m.module === "calculator/sup")?.stateBytes).toBeUndefined();
    expect(summary.modules.find((m) => m.module === "calculator/http_server")?.stateBytes).toBeUndefined();
    const first = await controlRequest(n.root, { cmd: "process-page", limit: 2 });
    expect(first).toMatchObject({ total: processes.length, offset: 0 });
    expect(first.rows.map((r) => r.pid)).toEqual(processes.slice(0, 2).map((p) => p.pid));
    const second = await controlRequest(n.root, { cmd: "process-page", limit: 2, offset: 2 });
    expect(second.rows.map((r) => r.pid)).toEqual(processes.slice(2, 4).map((p) => p.pid));
    const found = await controlRequest(n.root, { cmd: "process-page", search: "SUP" });
    expect(found.rows.map((r) => r.module)).toEqual(processes.filter((p) => p.module.includes("sup")).map((p) => p.module));
    expect(found.total).toBe(found.rows.length);
    const byQueue = await controlRequest(n.root, { cmd: "process-page", sort: "queue", module: "calculator/http_server" });
    expect(byQueue.rows).toHaveLength(1);
    expect(byQueue.rows[0]).toMatchObject({ module: "calculator/http_server", status: "running", queue: 0, stateBytes: null });
    // A request with a field the command does not take is refused, naming it.
    await expect(controlRequest(n.root, { cmd: "process-page", kill: true } as never)).rejects.toMatchObject({ issue: { kind: "bad-request" } });
  }, 60_000);

  it("journal: an install's steps, suspend windows, migrated counts and point of no return, followed with a cursor", async () => {
    const n = await calculator();
    const empty = await controlRequest(n.root, { cmd: "journal" });
    expect(empty).toEqual({ seq: 0, records: [], plans: {} });
    // A reader waiting on the cursor is answered once the install starts, long before its wait ends.
    const waiting = controlRequest(n.root, { cmd: "journal", after: 0, wait: 30_000 });
    const applied = apply(n.root, n.v2);
    const woken = await waiting;
    expect(woken.seq).toBeGreaterThan(0);
    await applied;
    expect(await get(n.port, "/calculate/2/2")).toBe("8");
    const { records, seq, plans } = await controlRequest(n.root, { cmd: "journal", plans: [1] });
    expect(seq).toBeGreaterThan(woken.seq);
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(record).toMatchObject({ id: 1, kind: "install", from: "1.0.0", to: "1.1.0", outcome: "installed", permanent: false });
    const plan = plans["1"]!;
    expect(plan).toMatchObject({ release: "calculator", from: { version: "1.0.0" }, to: { version: "1.1.0" } });
    expect(record.total).toBe(plan.up.length);
    expect(record.steps.map((s) => s.op)).toEqual(plan.up.map((i) => i.op));
    for (const step of record.steps) {
      expect(step.end).toBeGreaterThanOrEqual(step.start);
      expect(step.start).toBeGreaterThanOrEqual(record.startedAt);
      expect(step.end).toBeLessThanOrEqual(record.endedAt!);
    }
    expect(record.pointOfNoReturn).toBe(record.steps.find((s) => s.op === "point_of_no_return")!.start);
    const suspended = plan.up.flatMap((i) => (i.op === "suspend" ? i.modules : []));
    expect(record.suspensions.map((w) => w.module).sort()).toEqual([...suspended].sort());
    for (const window of record.suspensions) expect(window.end).toBeGreaterThanOrEqual(window.start);
    expect(record.rollback).toBeUndefined();
    // A cursor that is current waits (here 50 ms) and answers the same records.
    expect((await controlRequest(n.root, { cmd: "journal", after: seq, wait: 50 })).seq).toBe(seq);
  }, 60_000);

  it("journal: a failed install is recorded with its rollback, and a refused one as refused", async () => {
    const dir = await tempDir();
    const n = await liveNode({ dir, from: await writeFleet(dir, { version: "1.0.0" }), to: await writeFleet(dir, { version: "2.0.0", worker: workerV2([2]) }), app: "fleet" });
    await expect(apply(n.root, n.v2)).rejects.toThrow(/cannot migrate worker 2/);
    // The same plan for a release the root does not hold: refused by the preflight, with no step run.
    const { plans } = await controlRequest(n.root, { cmd: "journal", plans: [1] });
    await expect(controlRequest(n.root, { cmd: "install", version: "9.9.9", plan: plans["1"]! })).rejects.toMatchObject({ issue: { kind: "no-such-release" } });
    const { records } = await controlRequest(n.root, { cmd: "journal" });
    expect(records.map((r) => r.outcome)).toEqual(["rolled-back", "refused"]);
    expect(records[1]).toMatchObject({ kind: "install", from: "1.0.0", to: "9.9.9", steps: [], failure: { kind: "no-such-release" } });
    const failed = records.find((r: InstallRecord) => r.outcome === "rolled-back")!;
    expect(failed).toMatchObject({ kind: "install", from: "1.0.0", to: "2.0.0", failure: { kind: "install-failed", cause: expect.stringMatching(/cannot migrate worker 2/) } });
    expect(failed.rollback).toMatchObject({ cause: expect.stringMatching(/cannot migrate worker 2/), steps: expect.any(Number) });
    expect(failed.rollback!.start).toBeLessThanOrEqual(failed.endedAt!);
    expect(failed.migrated).toContainEqual({ module: "fleet/worker", done: 2, total: WORKERS });
    // Every suspend window closes when the rollback has resumed the processes.
    for (const window of failed.suspensions) expect(window.end).toBe(failed.endedAt);
    const status = await controlRequest(n.root, { cmd: "status" });
    expect(status.release.version).toBe("1.0.0");
  }, 60_000);

  it("samples: one a second once read, with event-loop delay, heap and message rate", async () => {
    const n = await calculator();
    expect((await controlRequest(n.root, { cmd: "samples" })).samples).toEqual([]);
    for (let i = 0; i < 5; i++) await get(n.port, "/calculate/2/2");
    const { samples, intervalMs } = await vi.waitFor(
      async () => {
        const answer = await controlRequest(n.root, { cmd: "samples" });
        if (answer.samples.length < 2) throw new Error("fewer than two samples yet");
        return answer;
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(intervalMs).toBe(1_000);
    const last = samples[samples.length - 1]!;
    expect(last).toMatchObject({ processes: expect.any(Number), heapUsed: expect.any(Number), loopMaxMs: expect.any(Number), messagesPerSec: expect.any(Number), httpPerSec: expect.any(Number) });
    expect(last.t).toBeGreaterThan(samples[0]!.t);
    // `after` answers only what is newer.
    expect((await controlRequest(n.root, { cmd: "samples", after: last.t })).samples.every((s) => s.t > last.t)).toBe(true);
  }, 60_000);
});
