/** Processes: one message at a time, suspend/resume, code_change, crashes, links and monitors. */
import { describe, expect, it } from "vitest";
import { CallError } from "../../src/runtime/process.ts";
import { SuspendTimeout } from "../../src/runtime/process.ts";
import { startServer } from "../../src/runtime/server.ts";
import { gate, testRuntime } from "../helpers/runtime.ts";

const LOG = `
exports.behaviour = "server";
exports.init = (args) => ({ seen: [], hold: args && args.hold });
exports.handleCall = async (req, from, state) => {
  if (req.op === "wait") { await globalThis.__gates[req.gate]; }
  if (req.op === "boom") throw new Error("boom");
  if (req.op === "seen") return { reply: state.seen, state };
  return { reply: req.n, state: { ...state, seen: [...state.seen, req.n] } };
};
exports.handleCast = (msg, state) => ({ ...state, seen: [...state.seen, "cast:" + msg] });
exports.handleInfo = (msg, state) => ({ ...state, seen: [...state.seen, msg && msg.type ? "info:" + msg.type : "info:" + msg] });
exports.codeChange = (old, state, extra) => { if (extra === "fail") throw new Error("migration failed"); return { ...state, seen: state.seen.map(String), migratedFrom: old }; };
`;

const gates = ((globalThis as unknown as { __gates: Record<string, Promise<void>> }).__gates ??= {});

describe("processes", () => {
  it("handles one message at a time, in order; an async handler holds the next message until it finishes", async () => {
    const { runtime } = testRuntime({ "a/log": LOG });
    const proc = await startServer(runtime, "a/log", {});
    const g = gate();
    gates.one = g.promise;
    const slow = runtime.call(proc.pid, { op: "wait", gate: "one", n: 1 });
    const fast = runtime.call(proc.pid, { n: 2 });
    expect(proc.mailbox.length).toBe(1);
    g.open();
    expect(await Promise.all([slow, fast])).toEqual([1, 2]);
    expect(await runtime.call(proc.pid, { op: "seen" })).toEqual([1, 2]);
  });

  it("suspend waits for the in-flight handler; messages sent while suspended queue and are delivered in order after resume", async () => {
    const { runtime } = testRuntime({ "a/log": LOG });
    const proc = await startServer(runtime, "a/log", {});
    const g = gate();
    gates.two = g.promise;
    const inflight = runtime.call(proc.pid, { op: "wait", gate: "two", n: 0 });
    let suspended = false;
    const suspending = runtime.suspend(proc).then(() => (suspended = true));
    await Promise.resolve();
    expect(suspended).toBe(false);
    g.open();
    await suspending;
    expect(proc.status).toBe("suspended");
    const replies = [1, 2, 3].map((n) => runtime.call(proc.pid, { n }));
    runtime.cast(proc.pid, "c");
    runtime.send(proc.pid, "i");
    expect(proc.mailbox.length).toBe(5);
    runtime.resume(proc);
    expect(await Promise.all([inflight, ...replies])).toEqual([0, 1, 2, 3]);
    expect(await runtime.call(proc.pid, { op: "seen" })).toEqual([0, 1, 2, 3, "cast:c", "info:i"]);
  });

  it("a suspend that times out rejects and leaves the process running", async () => {
    const { runtime, clock } = testRuntime({ "a/log": LOG }, { manualClock: true });
    const proc = await startServer(runtime, "a/log", {});
    const g = gate();
    gates.three = g.promise;
    const inflight = runtime.call(proc.pid, { op: "wait", gate: "three", n: 7 }, 60_000);
    const suspending = runtime.suspend(proc, 100);
    clock.advance(100);
    await expect(suspending).rejects.toBeInstanceOf(SuspendTimeout);
    expect(proc.status).toBe("running");
    g.open();
    expect(await inflight).toBe(7);
    expect(await runtime.call(proc.pid, { n: 8 })).toBe(8);
  });

  it("code_change runs only while suspended; a migration that throws leaves the state as it was", async () => {
    const { runtime } = testRuntime({ "a/log": LOG });
    const proc = await startServer(runtime, "a/log", {});
    await runtime.call(proc.pid, { n: 1 });
    await expect(runtime.codeChange(proc, 1, null)).rejects.toThrow(/needs it suspended/);
    await runtime.suspend(proc);
    await expect(runtime.codeChange(proc, 1, "fail")).rejects.toThrow("migration failed");
    expect(proc.state).toMatchObject({ seen: [1] });
    await runtime.codeChange(proc, 1, null);
    expect(proc.state).toMatchObject({ seen: ["1"], migratedFrom: 1 });
    runtime.resume(proc);
  });

  it("after a load, the next message runs the new code (the callback module is looked up per message)", async () => {
    const { runtime, load } = testRuntime({ "a/echo": `exports.init = () => 0; exports.handleCall = (r, f, s) => ({ reply: "v1:" + r, state: s });` });
    const proc = await startServer(runtime, "a/echo", {});
    expect(await runtime.call(proc.pid, "x")).toBe("v1:x");
    load("a/echo", `exports.init = () => 0; exports.handleCall = (r, f, s) => ({ reply: "v2:" + r, state: s });`);
    expect(await runtime.call(proc.pid, "x")).toBe("v2:x");
  });

  it("a handler that throws crashes the process: the caller gets the error, queued callers get an exit, monitors a DOWN", async () => {
    const { runtime } = testRuntime({ "a/log": LOG });
    const proc = await startServer(runtime, "a/log", {});
    const watcher = await startServer(runtime, "a/log", {});
    runtime.monitor(watcher.id, proc.pid);
    await runtime.suspend(proc);
    const crash = runtime.call(proc.pid, { op: "boom" });
    const queued = runtime.call(proc.pid, { n: 1 });
    runtime.resume(proc);
    await expect(crash).rejects.toThrow(/crashed: boom/);
    await expect(queued).rejects.toMatchObject({ reason: "exit" });
    expect(runtime.get(proc.pid)).toBeUndefined();
    expect(await runtime.call(watcher.pid, { op: "seen" })).toEqual(["info:DOWN"]);
  });

  it("a call to a process that does not exist fails at once; a call that gets no answer times out", async () => {
    const { runtime, clock } = testRuntime({ "a/log": LOG }, { manualClock: true });
    await expect(runtime.call("nobody", 1)).rejects.toMatchObject({ reason: "noproc" });
    const proc = await startServer(runtime, "a/log", {});
    await runtime.suspend(proc);
    const call = runtime.call(proc.pid, { n: 1 }, 1000);
    clock.advance(1000);
    await expect(call).rejects.toBeInstanceOf(CallError);
  });

  it("a linked process exits with an abnormal exit of its peer, unless it traps exits", async () => {
    const { runtime } = testRuntime({ "a/log": LOG });
    const a = await startServer(runtime, "a/log", {});
    const b = await startServer(runtime, "a/log", {}, { link: a.id });
    await runtime.exit(a, "boom");
    expect(runtime.get(b.pid)).toBeUndefined();
    const c = await startServer(runtime, "a/log", {});
    const d = await startServer(runtime, "a/log", {}, { link: c.id });
    await runtime.exit(c, "normal");
    expect(runtime.get(d.pid)).toBeDefined();
  });

  it("the process map finds every process using a module: callback module or declared modules, supervised or not", async () => {
    const { runtime } = testRuntime({ "a/log": LOG, "a/lib": "exports.x = 1;" });
    const p1 = await startServer(runtime, "a/log", {});
    const p2 = await startServer(runtime, "a/log", {}, { modules: ["a/lib"] });
    expect(runtime.processesUsing("a/log").map((p) => p.pid)).toEqual([p1.pid, p2.pid]);
    expect(runtime.processesUsing("a/lib").map((p) => p.pid)).toEqual([p2.pid]);
  });
});
