/** Supervisors: restart strategies, restart intensity, dynamic children, code change of child specs. */
import { describe, expect, it } from "vitest";
import { retireChildren, startSupervisor } from "../../src/runtime/supervisor.ts";
import { testRuntime } from "../helpers/runtime.ts";

const WORKER = `
exports.behaviour = "server";
exports.init = (args) => ({ id: args.id });
exports.handleCall = (req, from, state) => { if (req === "crash") throw new Error("crash " + state.id); return { reply: state.id, state }; };
`;
const sup = (strategy: string, ids: string[], extra = "") => `
exports.behaviour = "supervisor";
exports.init = () => ({ strategy: "${strategy}", intensity: 2, period: 10, children: ${JSON.stringify(ids)}.map((id) => ({ id, module: "worker", name: id, args: { id } })) ${extra} });
`;

async function crash(runtime: ReturnType<typeof testRuntime>["runtime"], name: string): Promise<void> {
  await runtime.call(name, "crash").catch(() => undefined);
}

/** The supervisor handles a child's exit as a message: a call to it returns once that message is handled. */
const settled = (runtime: ReturnType<typeof testRuntime>["runtime"], pid: string) => runtime.call(pid, { op: "which_children" });

describe("supervisor", () => {
  it("one_for_one: restarts a crashed child, and only it", async () => {
    const { runtime } = testRuntime({ "w/worker": WORKER, "w/sup": sup("one_for_one", ["a", "b"]) }, { manualClock: true });
    const s = await startSupervisor(runtime, "w/sup", {});
    const [a, b] = [runtime.whereis("a"), runtime.whereis("b")];
    await crash(runtime, "a");
    await settled(runtime, s.pid);
    expect(runtime.whereis("a")).toBeDefined();
    expect(runtime.whereis("a")).not.toBe(a);
    expect(runtime.whereis("b")).toBe(b);
    expect(await runtime.call("a", "who")).toBe("a");
  });

  it("one_for_all: a crash restarts every child", async () => {
    const { runtime } = testRuntime({ "w/worker": WORKER, "w/sup": sup("one_for_all", ["a", "b"]) }, { manualClock: true });
    const s = await startSupervisor(runtime, "w/sup", {});
    const b = runtime.whereis("b");
    await crash(runtime, "a");
    await settled(runtime, s.pid);
    expect(runtime.whereis("b")).not.toBe(b);
  });

  it("rest_for_one: a crash restarts the child and those started after it", async () => {
    const { runtime } = testRuntime({ "w/worker": WORKER, "w/sup": sup("rest_for_one", ["a", "b", "c"]) }, { manualClock: true });
    const s = await startSupervisor(runtime, "w/sup", {});
    const [a, c] = [runtime.whereis("a"), runtime.whereis("c")];
    await crash(runtime, "b");
    await settled(runtime, s.pid);
    expect(runtime.whereis("a")).toBe(a);
    expect(runtime.whereis("c")).not.toBe(c);
  });

  it("gives up beyond its restart intensity: stops its children and exits", async () => {
    const { runtime, clock } = testRuntime({ "w/worker": WORKER, "w/sup": sup("one_for_one", ["a", "b"]) }, { manualClock: true });
    const s = await startSupervisor(runtime, "w/sup", {});
    const exited = new Promise((resolve) => {
      runtime.onExit = (proc, reason) => proc.pid === s.pid && resolve(reason);
    });
    await crash(runtime, "a");
    await settled(runtime, s.pid);
    clock.advance(1000);
    await crash(runtime, "a");
    await settled(runtime, s.pid);
    clock.advance(1000);
    await crash(runtime, "a");
    expect(await exited).toBe("reached_max_restart_intensity");
    expect(runtime.processes()).toEqual([]);
  });

  it("restarts outside the period do not count", async () => {
    const { runtime, clock } = testRuntime({ "w/worker": WORKER, "w/sup": sup("one_for_one", ["a"]) }, { manualClock: true });
    const s = await startSupervisor(runtime, "w/sup", {});
    for (let i = 0; i < 5; i++) {
      await crash(runtime, "a");
      await settled(runtime, s.pid);
      clock.advance(11_000);
    }
    expect(runtime.get(s.pid)).toBeDefined();
  });

  it("dynamic children: start_child, terminate_child, delete_child", async () => {
    const { runtime } = testRuntime({ "w/worker": WORKER, "w/sup": sup("one_for_one", []) });
    const s = await startSupervisor(runtime, "w/sup", {});
    const pid = await runtime.call(s.pid, { op: "start_child", spec: { id: "x", module: "worker", name: "x", args: { id: "x" } } });
    expect(await runtime.call("x", "who")).toBe("x");
    await runtime.call(s.pid, { op: "terminate_child", id: "x" });
    expect(runtime.get(pid as string)).toBeUndefined();
    await runtime.call(s.pid, { op: "delete_child", id: "x" });
    expect(await runtime.call(s.pid, { op: "which_children" })).toEqual([]);
  });

  it("code change re-reads the child specs: kept children keep their pid, new ids start, ids gone stop when the upgrade commits", async () => {
    const { runtime, load } = testRuntime({ "w/worker": WORKER, "w/sup": sup("one_for_one", ["a", "b"]) });
    const s = await startSupervisor(runtime, "w/sup", {});
    const a = runtime.whereis("a");
    const b = runtime.whereis("b")!;
    load("w/sup", sup("one_for_one", ["a", "c"]));
    await runtime.suspend(s);
    await runtime.codeChange(s, 1, null);
    runtime.resume(s);
    expect(runtime.whereis("a")).toBe(a);
    expect(runtime.get(b)).toBeDefined();
    await retireChildren(runtime, s);
    expect(runtime.get(b)).toBeUndefined();
    expect(await runtime.call("c", "who")).toBe("c");
    expect(((await runtime.call(s.pid, { op: "which_children" })) as { id: string }[]).map((c) => c.id)).toEqual(["a", "c"]);
  });

  it("a child that fails to start makes the supervisor fail to start, stopping the children already started", async () => {
    const { runtime } = testRuntime({ "w/worker": WORKER, "w/bad": `exports.init = () => { throw new Error("no"); };`, "w/sup": `exports.init = () => ({ children: [{ id: "a", module: "worker", args: { id: "a" } }, { id: "bad", module: "bad" }] });` });
    await expect(startSupervisor(runtime, "w/sup", {})).rejects.toThrow("no");
    expect(runtime.processes()).toEqual([]);
  });
});
