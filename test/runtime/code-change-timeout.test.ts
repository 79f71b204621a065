/**
 * A codeChange that does not settle in time: the runtime gives up on it after its timeout, leaves the
 * process's state as it was, and ignores whatever the abandoned migration settles with later (a value
 * or an error), so that a rolled-back process is never overwritten behind the install's back.
 */
import { describe, expect, it } from "vitest";
import { CodeChangeTimeout } from "../../src/runtime/process.ts";
import { startServer } from "../../src/runtime/server.ts";
import { startSupervisor } from "../../src/runtime/supervisor.ts";
import { testRuntime } from "../helpers/runtime.ts";

// The migration waits on a settle function the test holds (globalThis.settle), one per call.
const SLOW = `
exports.init = () => ({ n: 1 });
exports.handleCall = (req, from, state) => ({ reply: state, state });
exports.codeChange = (old, state) => new Promise((resolve, reject) => { globalThis.settle = { resolve, reject }; });
`;

type Settle = { resolve(value: unknown): void; reject(error: Error): void };
const settle = () => (globalThis as unknown as { settle: Settle }).settle;

async function suspendedServer() {
  const { runtime, clock } = testRuntime({ "a/slow": SLOW }, { manualClock: true });
  const proc = await startServer(runtime, "a/slow", {});
  await runtime.suspend(proc);
  return { runtime, clock, proc };
}

describe("codeChange timeout", () => {
  it("rejects with CodeChangeTimeout naming the process and the module; the state stays the old object", async () => {
    const { runtime, clock, proc } = await suspendedServer();
    const before = proc.state;
    const migrating = runtime.codeChangeNow(proc, 1, null, 300);
    clock.advance(300);
    const error = await Promise.resolve(migrating).catch((e: Error) => e);
    expect(error).toBeInstanceOf(CodeChangeTimeout);
    expect((error as Error).message).toBe(`codeChange of process ${proc.pid} (a/slow) did not settle within 300 ms`);
    expect(proc.state).toBe(before);
  });

  it("a late result is ignored: the abandoned migration cannot overwrite the state the process runs on", async () => {
    const { runtime, clock, proc } = await suspendedServer();
    const before = proc.state;
    const migrating = Promise.resolve(runtime.codeChangeNow(proc, 1, null, 300)).catch(() => undefined);
    clock.advance(300);
    await migrating;
    runtime.resume(proc);
    settle().resolve({ corrupted: true });
    await new Promise((resolve) => setImmediate(resolve));
    expect(proc.state).toBe(before);
    expect(await runtime.call(proc.pid, "get")).toEqual({ n: 1 });
  });

  it("a late failure is ignored too (no unhandled rejection)", async () => {
    const { runtime, clock, proc } = await suspendedServer();
    const migrating = Promise.resolve(runtime.codeChangeNow(proc, 1, null, 300)).catch(() => undefined);
    clock.advance(300);
    await migrating;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    settle().reject(new Error("late failure"));
    await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
    expect(proc.state).toEqual({ n: 1 });
  });

  it("a migration that settles in time is applied; 'infinity' waits as long as it takes", async () => {
    const { runtime, clock, proc } = await suspendedServer();
    const migrating = runtime.codeChangeNow(proc, 1, null, "infinity");
    clock.advance(10 ** 9);
    settle().resolve({ n: 2 });
    await migrating;
    expect(proc.state).toEqual({ n: 2 });
  });
});

// A supervisor's codeChange is async when its new specs start children: here `early`, which starts at
// once, and `late`, whose init waits on globalThis.openLate.
const WORKER = `
exports.init = (args) => ({ id: args.id });
exports.handleCall = (req, from, state) => ({ reply: state, state });
`;
const LATE = `
exports.init = () => new Promise((resolve) => { globalThis.openLate = () => resolve({ late: true }); });
exports.handleCall = (req, from, state) => ({ reply: state, state });
`;
const SUP_V1 = `exports.behaviour = "supervisor"; exports.init = () => ({ children: [{ id: "kept", module: "worker", args: { id: 1 } }] });`;
const SUP_V2 = `exports.behaviour = "supervisor"; exports.init = () => ({ children: [
  { id: "kept", module: "worker", args: { id: 1 } },
  { id: "early", module: "worker", args: { id: 2 } },
  { id: "late", module: "late" },
] });`;

describe("a supervisor's codeChange that times out", () => {
  async function abandonedSupervisor() {
    const { runtime, clock, load } = testRuntime({ "a/worker": WORKER, "a/late": LATE, "a/sup": SUP_V1 }, { manualClock: true });
    const sup = await startSupervisor(runtime, "a/sup", {});
    const before = runtime.processes().map((p) => p.pid);
    load("a/sup", SUP_V2);
    await runtime.suspend(sup);
    const migrating = Promise.resolve(runtime.codeChangeNow(sup, 1, null, 300)).catch((e: Error) => e);
    // `early` has started; `late` is being started
    await new Promise((resolve) => setImmediate(resolve));
    expect(runtime.processes().length).toBe(before.length + 2);
    clock.advance(300);
    expect(await migrating).toBeInstanceOf(CodeChangeTimeout);
    return { runtime, sup, before, state: sup.state };
  }

  it("stops every child its abandoned code change started, the one starting when it was abandoned too: nothing is left alive and linked but unsupervised", async () => {
    const { runtime, sup, before, state } = await abandonedSupervisor();
    const settled = new Promise((resolve) => (runtime.onLateCodeChange = (_proc, outcome) => resolve(outcome)));
    (globalThis as unknown as { openLate: () => void }).openLate();
    // The abandoned code change ends once it has stopped what it started.
    expect(await settled).toMatchObject({ ok: false });
    expect(runtime.processes().map((p) => p.pid)).toEqual(before);
    expect(sup.state).toBe(state);
    expect(sup.links()).toHaveLength(1);
    runtime.resume(sup);
    expect(await runtime.call(sup.pid, { op: "which_children" })).toEqual([{ id: "kept", pid: before[1], module: "a/worker", modules: [], restart: "permanent" }]);
  });
});
