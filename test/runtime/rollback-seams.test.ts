/**
 * The seams of the executor's rollback, on an in-process node (the steps run for real; object code is
 * compiled from source instead of read from a release on disk):
 *   - the purges that kill come after the commit, whose configChange can still fail
 *   - undoing a resume waits for a handler still in flight before states are put back
 *   - a stop waits as long as the child's shutdown allows, and a start's undo stops only what it started
 *   - on rollback, old code restarts under the old env (restarts come after code, states and env)
 *   - a purge kills every doomed process before it drops the code, and deletes a killed child's spec
 */
import { describe, expect, it } from "vitest";
import type { AppFile } from "../../src/release/app-file.ts";
import type { Instruction } from "../../src/relup/instruction.ts";
import { ManualClock } from "../../src/runtime/clock.ts";
import { execute, InstallError } from "../../src/runtime/executor.ts";
import { Node } from "../../src/runtime/node.ts";
import { startServer } from "../../src/runtime/server.ts";
import { startSupervisor } from "../../src/runtime/supervisor.ts";
import { gate } from "../helpers/runtime.ts";

type Globals = { __seen: unknown[]; __gate?: Promise<void>; __open?: () => void; __pending?: Promise<unknown>; __terminating?: () => void };
const g = globalThis as unknown as Globals;

function node(modules: Record<string, string>, options: { clock?: ManualClock } = {}) {
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const n = new Node({ releaseDir: "/nonexistent", log: (event, fields) => logs.push({ event, fields }), ...(options.clock ? { clock: options.clock } : {}) });
  let vsn = 1;
  const load = (module: string, code: string) => {
    if (n.table.old(module)) n.table.purge(module, "brutal");
    n.table.load(n.table.compile(module, code, `/virtual/${module}.js`, { vsn, sha256: String(vsn++) }));
  };
  for (const [m, code] of Object.entries(modules)) load(m, code);
  return { node: n, runtime: n.runtime, table: n.table, logs };
}

const ponr: Instruction = { op: "point_of_no_return" };
const remove = (module: string): Instruction => ({ op: "remove", module, prePurge: "brutal_purge", postPurge: "brutal_purge" });
const purge = (...modules: string[]): Instruction => ({ op: "purge", modules });
const failing: Instruction = { op: "apply", module: "a/fail", function: "now", args: [] };
const FAIL = `exports.now = () => { throw new Error("later step fails"); };`;
const app = (env: Record<string, unknown>, version = "1.0.0"): AppFile => ({ format: 1, name: "a", version, start: "app", applications: [], env: env as never, modules: [] });
const COUNTER = `
exports.behaviour = "server";
exports.init = () => ({ n: 0 });
exports.handleCall = (req, from, s) => ({ reply: s.n + 1, state: { n: s.n + 1 } });
exports.handleInfo = (msg, s) => { globalThis.__seen.push(msg.type); return s; };
`;
const SUP = (children: object[], strategy = "one_for_one") => `exports.behaviour = "supervisor"; exports.init = () => ({ strategy: ${JSON.stringify(strategy)}, children: ${JSON.stringify(children)} });`;
const whichChildren = async (n: Node, sup: string) => (await n.runtime.call(sup, { op: "which_children" })) as { id: string; pid: string | null }[];

describe("the commit and the purges that kill", () => {
  it("a configChange that throws at the commit rolls back before any process of a removed module was killed", async () => {
    const APP = `exports.behaviour = "application"; exports.start = () => undefined; exports.configChange = () => { throw new Error("bad config"); };`;
    const { node: n, runtime } = node({ "a/counter": COUNTER, "a/app": APP });
    n.controller.load(app({ k: 1 }));
    await n.controller.start("a");
    const counter = await startServer(runtime, "a/counter", {}, { name: "counter" });
    const killed: string[] = [];
    const target = { dir: "", apps: [app({ k: 2 }, "1.1.0")] };
    const error = await execute([ponr, remove("a/counter"), purge("a/counter")], { port: n.port, target, onKilled: (_m, p) => killed.push(p.pid) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    expect((error as InstallError).message).toContain("bad config");
    expect(killed).toEqual([]);
    expect((error as InstallError).killed).toEqual([]);
    expect(runtime.get(counter.pid)).toBeDefined();
    expect(await runtime.call("counter", "bump")).toBe(1);
  });

  it("an InstallError says, in its issue and its message, whether the step failed before or after the point of no return", async () => {
    const { node: n } = node({ "a/fail": FAIL });
    const before = (await execute([failing, ponr], { port: n.port, target: { dir: "", apps: [] } }).catch((e: unknown) => e)) as InstallError;
    expect(before).toBeInstanceOf(InstallError);
    expect(before.issue).toEqual({ kind: "install-failed", index: 0, op: "apply", module: "a/fail", cause: "later step fails", phase: "before-point-of-no-return", killed: [], rollbackFailures: [] });
    expect(before.message).toBe("step 1 (apply) at module a/fail failed: later step fails (before the point of no return: no running code had changed yet)");
    const after = (await execute([ponr, failing], { port: n.port, target: { dir: "", apps: [] } }).catch((e: unknown) => e)) as InstallError;
    expect(after.issue).toMatchObject({ kind: "install-failed", index: 1, op: "apply", phase: "after-point-of-no-return" });
    expect(after.message).toBe("step 2 (apply) at module a/fail failed: later step fails (after the point of no return: the install had changed running code, and undid it)");
  });

  it("a failure after a purge that killed names the killed processes in the InstallError", async () => {
    const { node: n, runtime } = node({ "a/counter": COUNTER, "a/fail": FAIL });
    const counter = await startServer(runtime, "a/counter", {}, { name: "counter" });
    const error = (await execute([ponr, remove("a/counter"), purge("a/counter"), failing], { port: n.port, target: { dir: "", apps: [] } }).catch((e: unknown) => e)) as InstallError;
    expect(error).toBeInstanceOf(InstallError);
    expect(error.killed).toEqual([{ module: "a/counter", pid: counter.pid, name: "counter" }]);
    expect(error.message).toContain(`killed at a purge, not brought back: ${counter.pid} (counter)`);
  });
});

describe("undoing a resume", () => {
  const V1 = `exports.behaviour = "server"; exports.init = () => ({ n: 0 }); exports.handleCall = (r, f, s) => ({ reply: s, state: s });`;
  const V2 = `
exports.behaviour = "server";
exports.init = () => ({ n: 0 });
exports.codeChange = (vsn, s) => ({ count: s.n, v2: true });
exports.handleCall = async (r, f, s) => { await globalThis.__gate; return { reply: s, state: { ...s, touched: true } }; };
`;
  /** Starts a call on the new code (its handler waits for the gate), opens the gate on the next turn, then fails. */
  const SLOW_THEN_FAIL = `
const { call } = require("relup/runtime");
exports.now = () => { globalThis.__pending = call("srv", "slow", 60000).catch((e) => e); setImmediate(() => globalThis.__open()); throw new Error("later step fails"); };
exports.never = () => { globalThis.__pending = call("srv", "slow", 60000).catch((e) => e); throw new Error("later step fails"); };
`;
  const upgrade = (fn: string, suspendTimeout?: number): Instruction[] => [
    { op: "load_object_code", application: "a", version: "1.1.0", modules: ["srv"] },
    ponr,
    { op: "suspend", modules: ["a/srv"], ...(suspendTimeout !== undefined ? { timeout: suspendTimeout } : {}) },
    { op: "load", module: "a/srv", prePurge: "brutal_purge", postPurge: "brutal_purge" },
    { op: "code_change", mode: "up", modules: [{ module: "a/srv", extra: null }] },
    { op: "resume", modules: ["a/srv"] },
    { op: "apply", module: "a/slow", function: fn, args: [] },
  ];
  const setup = async () => {
    const ctx = node({ "a/srv": V1, "a/slow": SLOW_THEN_FAIL });
    const code = ctx.table.compile("a/srv", V2, "/virtual/a/srv-2.js", { vsn: 2, sha256: "v2" });
    ctx.node.readObjectCode = () => code;
    const srv = await startServer(ctx.runtime, "a/srv", {}, { name: "srv" });
    const held = gate();
    g.__gate = held.promise;
    g.__open = () => held.open();
    return { ...ctx, srv, open: held.open, target: { dir: "", apps: [{ ...app({}, "1.1.0"), start: undefined }] } };
  };

  it("waits for a handler still running on the new code before the old state is put back", async () => {
    const { node: n, srv, target } = await setup();
    await expect(execute(upgrade("now"), { port: n.port, target })).rejects.toThrow("later step fails");
    expect(srv.status).toBe("running");
    await g.__pending;
    expect(srv.state).toEqual({ n: 0 });
  });

  it("a handler that does not finish within the suspend timeout is logged and the rollback goes on", async () => {
    const { node: n, srv, target, logs, open } = await setup();
    await expect(execute(upgrade("never", 20), { port: n.port, target })).rejects.toThrow("later step fails");
    expect(logs.find((l) => l.event.startsWith("rollback could not suspend"))?.fields).toMatchObject({ pid: srv.pid, module: "a/srv" });
    expect(srv.status).toBe("running");
    open();
    await g.__pending;
  });
});

describe("the stop and start steps", () => {
  it("a stop waits as long as the child's shutdown allows, past the default call timeout", async () => {
    const SLOW = `exports.behaviour = "server"; exports.init = () => ({}); exports.terminate = async () => { globalThis.__terminating(); await globalThis.__gate; };`;
    const clock = new ManualClock();
    const { node: n, runtime } = node({ "a/w": SLOW, "a/sup": SUP([{ id: "w", module: "w", shutdown: 10000 }]) }, { clock });
    const sup = await startSupervisor(runtime, "a/sup", {});
    const terminating = gate();
    const released = gate();
    g.__terminating = () => terminating.open();
    g.__gate = released.promise;
    const run = execute([ponr, { op: "stop", modules: ["a/w"] }], { port: n.port, target: { dir: "", apps: [] } });
    await terminating.promise;
    clock.advance(6000);
    released.open();
    await run;
    expect(await whichChildren(n, sup.pid)).toEqual([expect.objectContaining({ id: "w", pid: null })]);
  });

  it("a child whose shutdown is infinity is waited for however long its terminate takes, never killed", async () => {
    const SLOW = `exports.behaviour = "server"; exports.init = () => ({}); exports.terminate = async (reason) => { globalThis.__terminating(); await globalThis.__gate; globalThis.__seen.push(reason); };`;
    const clock = new ManualClock();
    const { node: n, runtime } = node({ "a/w": SLOW, "a/sup": SUP([{ id: "w", module: "w", shutdown: "infinity" }]) }, { clock });
    const sup = await startSupervisor(runtime, "a/sup", {});
    const terminating = gate();
    const released = gate();
    g.__terminating = () => terminating.open();
    g.__gate = released.promise;
    g.__seen = [];
    const run = execute([ponr, { op: "stop", modules: ["a/w"] }], { port: n.port, target: { dir: "", apps: [] } });
    await terminating.promise;
    clock.advance(3_600_000);
    released.open();
    await run;
    expect(g.__seen).toEqual(["shutdown"]);
    expect(await whichChildren(n, sup.pid)).toEqual([expect.objectContaining({ id: "w", pid: null })]);
  });

  it("a start's undo stops only the children it started, not those already running", async () => {
    const { node: n, runtime } = node({ "a/counter": COUNTER, "a/fail": FAIL, "a/sup": SUP([{ id: "c", module: "counter" }, { id: "d", module: "counter" }]) });
    const sup = await startSupervisor(runtime, "a/sup", {});
    await runtime.call(sup.pid, { op: "terminate_child", id: "d" });
    const c = (await whichChildren(n, sup.pid))[0]!.pid;
    await expect(execute([ponr, { op: "start", modules: ["a/counter"] }, failing], { port: n.port, target: { dir: "", apps: [] } })).rejects.toThrow("later step fails");
    expect(await whichChildren(n, sup.pid)).toEqual([expect.objectContaining({ id: "c", pid: c }), expect.objectContaining({ id: "d", pid: null })]);
  });
});

describe("restarts on rollback", () => {
  it("a child the stop step terminated starts again under the old env", async () => {
    const W = `const { getEnv } = require("relup/runtime"); exports.behaviour = "server"; exports.init = () => { globalThis.__seen.push(getEnv("port")); return {}; };`;
    const { node: n, runtime } = node({ "a/w": W, "a/sup": SUP([{ id: "w", module: "w" }]), "a/app": `exports.behaviour = "application"; exports.start = () => undefined;`, "a/fail": FAIL });
    g.__seen = [];
    n.controller.load(app({ port: 1 }));
    await n.controller.start("a");
    await startSupervisor(runtime, "a/sup", {});
    const script: Instruction[] = [ponr, { op: "apply", module: "application", function: "set_env_defaults", args: ["a", { port: 2 }, {}, []] }, { op: "stop", modules: ["a/w"] }, remove("a/w"), failing];
    await expect(execute(script, { port: n.port, target: { dir: "", apps: [app({ port: 2 }, "1.1.0")] } })).rejects.toThrow("later step fails");
    expect(g.__seen).toEqual([1, 1]);
  });

  it("an application the plan stopped starts again under the old env, and the controller keeps its new top supervisor", async () => {
    const TOP = `const { getEnv } = require("relup/runtime"); exports.behaviour = "supervisor"; exports.init = () => { globalThis.__seen.push(getEnv("port")); return { children: [] }; };`;
    const { node: n, runtime } = node({ "a/top": TOP, "a/fail": FAIL, "a/app": `exports.behaviour = "application"; exports.start = async () => (await globalThis.__startTop()).pid;` });
    (globalThis as unknown as { __startTop: () => unknown }).__startTop = () => startSupervisor(runtime, "a/top", {});
    g.__seen = [];
    n.controller.load(app({ port: 1 }));
    await n.controller.start("a");
    const script: Instruction[] = [
      ponr,
      { op: "apply", module: "application", function: "set_env_defaults", args: ["a", { port: 2 }, {}, []] },
      { op: "apply", module: "application", function: "stop", args: ["a"] },
      { op: "apply", module: "application", function: "start", args: ["a", "permanent"] },
      failing,
    ];
    await expect(execute(script, { port: n.port, target: { dir: "", apps: [app({ port: 2 }, "1.1.0")] } })).rejects.toThrow("later step fails");
    expect(g.__seen).toEqual([1, 2, 1]);
    const top = n.controller.list()[0]!.top;
    expect(runtime.get(top!)).toBeDefined();
    expect(runtime.processes().filter((p) => p.module === "a/top").map((p) => p.pid)).toEqual([top]);
  });
});

describe("a purge's kills", () => {
  it("every doomed process dies before the code goes: none handles a message without its code", async () => {
    // Told of the first one's death at once, the watcher calls the second: it must find it dead, not codeless.
    const WATCH = `const { call } = require("relup/runtime"); exports.behaviour = "server"; exports.init = () => ({});
exports.handleInfo = (msg, s) => { if (msg.type === "DOWN") globalThis.__pending = call(globalThis.__target, "bump").then(String, (e) => e.message); return s; };`;
    const { node: n, runtime } = node({ "a/counter": COUNTER, "a/watch": WATCH });
    const first = await startServer(runtime, "a/counter", {});
    const second = await startServer(runtime, "a/counter", {});
    const watcher = await startServer(runtime, "a/watch", {});
    runtime.monitor(watcher.id, first.pid);
    (globalThis as unknown as { __target: string }).__target = second.pid;
    g.__pending = undefined;
    const killed: string[] = [];
    await execute([ponr, remove("a/counter"), purge("a/counter")], { port: n.port, target: { dir: "", apps: [] }, onKilled: (_m, p) => killed.push(p.pid) });
    expect(await (g.__pending as Promise<unknown> | undefined)).toContain("exited: killed");
    expect(killed.sort()).toEqual([first.pid, second.pid].sort());
  });

  it("a killed child's spec is deleted, so that a one_for_all restart does not retry a module that is gone", async () => {
    const { node: n, runtime } = node({ "a/counter": COUNTER, "a/gone": COUNTER, "a/sup": SUP([{ id: "stays", module: "counter" }, { id: "goes", module: "gone" }], "one_for_all") });
    const sup = await startSupervisor(runtime, "a/sup", {});
    await execute([ponr, remove("a/gone"), purge("a/gone")], { port: n.port, target: { dir: "", apps: [] } });
    expect((await whichChildren(n, sup.pid)).map((c) => c.id)).toEqual(["stays"]);
    const stays = runtime.get((await whichChildren(n, sup.pid))[0]!.pid!)!;
    await runtime.exit(stays, "boom");
    const after = await whichChildren(n, sup.pid);
    expect(runtime.get(sup.pid)).toBeDefined();
    expect(after).toEqual([expect.objectContaining({ id: "stays", pid: expect.any(String) })]);
    expect(after[0]!.pid).not.toBe(stays.pid);
  });

  it("a failure after the kill puts the child's spec back and starts it again with the old code", async () => {
    const { node: n, runtime } = node({ "a/counter": COUNTER, "a/gone": COUNTER, "a/fail": FAIL, "a/sup": SUP([{ id: "stays", module: "counter" }, { id: "goes", module: "gone" }]) });
    const sup = await startSupervisor(runtime, "a/sup", {});
    const before = await whichChildren(n, sup.pid);
    const error = (await execute([ponr, remove("a/gone"), purge("a/gone"), failing], { port: n.port, target: { dir: "", apps: [] } }).catch((e: unknown) => e)) as InstallError;
    expect(error.killed.map((k) => k.pid)).toEqual([before[1]!.pid]);
    const after = await whichChildren(n, sup.pid);
    expect(after.map((c) => c.id)).toEqual(["stays", "goes"]);
    expect(after[1]!.pid).toEqual(expect.any(String));
    expect(after[1]!.pid).not.toBe(before[1]!.pid);
    expect(await runtime.call(after[1]!.pid!, "bump")).toBe(1);
  });
});
