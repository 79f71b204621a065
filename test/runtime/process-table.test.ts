/**
 * The dense process table: process ids are numbers inside the runtime and printed `<0.N.0>` wherever user
 * code, messages and logs see them; links, monitors and mailboxes exist only once used; a supervisor
 * starts children whose init is synchronous without a promise per child.
 */
import { createHook } from "node:async_hooks";
import { describe, expect, it } from "vitest";
import { createRuntimeApi } from "../../src/runtime/api.ts";
import { ApplicationController } from "../../src/runtime/application-controller.ts";
import { ModuleTable } from "../../src/runtime/module-table.ts";
import { formatPid, parsePid, type Proc } from "../../src/runtime/process.ts";
import { Runtime } from "../../src/runtime/runtime.ts";
import { startServer } from "../../src/runtime/server.ts";
import { startSupervisor } from "../../src/runtime/supervisor.ts";
import { gate } from "../helpers/runtime.ts";

/** A runtime whose modules get the real `relup/runtime` API, as in a node. */
function withApi(modules: Record<string, string>) {
  let runtime!: Runtime;
  let controller!: ApplicationController;
  const table = new ModuleTable({ runtimeApi: (module) => createRuntimeApi(runtime, controller, module) });
  runtime = new Runtime(table);
  controller = new ApplicationController(runtime);
  let vsn = 1;
  const load = (module: string, code: string) => {
    if (table.old(module)) table.purge(module, "brutal");
    table.load(table.compile(module, code, `/virtual/${vsn}/${module}.js`, { vsn, sha256: String(vsn++) }));
  };
  for (const [module, code] of Object.entries(modules)) load(module, code);
  return { runtime, table, load };
}

const PEER = `
const rt = require("relup/runtime");
exports.behaviour = "server";
exports.init = () => ({ exits: [] });
exports.handleCall = (req, from, state) => {
  if (req === "ping") return { reply: "pong", state };
  if (req === "from") return { reply: from.pid, state };
  if (req === "exits") return { reply: state.exits, state };
  return { reply: null, state };
};
exports.handleInfo = (msg, state) => ({ exits: [...state.exits, msg] });
`;

/** Holds its peer's pid and its own in its state, as user code does. */
const HOLDER = (vsn: number) => `
const rt = require("relup/runtime");
exports.behaviour = "server";
exports.vsn = ${vsn};
exports.init = async () => ({ peer: await rt.startServer("peer"), me: rt.self() });
exports.handleCall = async (req, from, state) => {
  if (req === "state") return { reply: state, state };
  if (req === "ask-peer") return { reply: await rt.call(state.peer, "ping"), state };
  if (req === "who-am-i-to-peer") return { reply: await rt.call(state.peer, "from"), state };
  if (typeof req === "object" && req.callPid) return { reply: await rt.call(req.callPid, "ping"), state };
  return { reply: null, state };
};
exports.codeChange = (old, state) => ({ ...state, upgradedFrom: old });
`;

const printed = /^<0\.[1-9][0-9]*\.0>$/;

describe("process ids", () => {
  it("are numbers inside the runtime and print as <0.N.0>; printed pids and numbers name the same process", () => {
    expect(formatPid(12)).toBe("<0.12.0>");
    expect(parsePid("<0.12.0>")).toBe(12);
    for (const other of ["w12", "<0.0.0>", "<0.12.1>", "<1.12.0>", "<0.012.0>", "<0..0>", ""]) expect(parsePid(other)).toBeUndefined();
  });

  it("user code gets and gives them printed: startServer, self, whereis, from.pid, which_children, EXIT messages", async () => {
    const { runtime } = withApi({ "a/peer": PEER, "a/holder": HOLDER(1) });
    const holder = await startServer(runtime, "a/holder", {}, { name: "holder" });
    const state = (await runtime.call("holder", "state")) as { peer: string; me: string };
    expect(state.peer).toMatch(printed);
    expect(state.me).toBe(holder.pid);
    expect(holder.pid).toBe(`<0.${holder.id}.0>`);
    expect(runtime.get(state.peer)?.pid).toBe(state.peer);
    expect(await runtime.call("holder", "who-am-i-to-peer")).toBe(holder.pid);

    // A supervisor's replies and a linked process's EXIT notice carry printed pids.
    const sup = `exports.behaviour = "supervisor"; exports.init = () => ({ children: [{ id: "p", module: "peer", name: "p" }] });`;
    const { runtime: r2 } = withApi({ "b/peer": PEER, "b/sup": sup });
    const s = await startSupervisor(r2, "b/sup", {});
    const [child] = (await r2.call(s.id, { op: "which_children" })) as { pid: string }[];
    expect(child!.pid).toMatch(printed);
    expect(child!.pid).toBe(r2.get("p")!.pid);
    const watcher = await startServer(r2, "b/peer", {}, { trapExit: true });
    const doomed = await startServer(r2, "b/peer", {}, { link: watcher.id });
    await r2.exit(doomed, "boom");
    expect(await r2.call(watcher.pid, "exits")).toEqual([{ type: "EXIT", pid: doomed.pid, reason: "boom" }]);
  });

  it("a state holding a pid keeps naming the same process after a code_change and a JSON copy of the state", async () => {
    const { runtime, load } = withApi({ "a/peer": PEER, "a/holder": HOLDER(1) });
    const holder = await startServer(runtime, "a/holder", {}, { name: "holder" });
    const before = (await runtime.call("holder", "state")) as { peer: string };
    await runtime.suspend(holder);
    load("a/holder", HOLDER(2));
    await runtime.codeChange(holder, 1, []);
    runtime.resume(holder);
    const after = (await runtime.call("holder", "state")) as { peer: string; upgradedFrom: number };
    expect(after).toMatchObject({ peer: before.peer, upgradedFrom: 1 });
    expect(await runtime.call("holder", "ask-peer")).toBe("pong");
    // What `relup verify` and a migration's JSON copy make of it: the same string, the same process.
    const copy = JSON.parse(JSON.stringify(after)) as { peer: string };
    expect(copy.peer).toBe(before.peer);
    expect(await runtime.call("holder", { callPid: copy.peer })).toBe("pong");
    expect(await runtime.call(copy.peer, "ping")).toBe("pong");
  });
});

describe("a process's row in the table", () => {
  const SERVER = `exports.behaviour = "server"; exports.init = () => ({ n: 0 }); exports.handleCall = async (req, from, state) => { if (req === "wait") await globalThis.__gate; return { reply: state.n, state: { n: state.n + 1 } }; };`;
  const fields = (p: Proc) => ({ links: p.links(), watchers: p.watchers, queue: p.queue });

  it("holds no link set, monitor map or mailbox until they are used, and drops the mailbox once it is empty", async () => {
    const { runtime } = withApi({ "a/s": SERVER });
    const lone = await startServer(runtime, "a/s", {});
    await runtime.call(lone.id, "go");
    expect(fields(lone)).toEqual({ links: [], watchers: undefined, queue: undefined });

    // One link is the peer's id itself; a second makes a set; unlinking goes back.
    const a = await startServer(runtime, "a/s", {}, { link: lone.id });
    expect(lone.links()).toEqual([a.id]);
    const b = await startServer(runtime, "a/s", {}, { link: lone.id });
    expect(lone.links().sort()).toEqual([a.id, b.id].sort());
    await runtime.exit(b, "normal");
    expect(lone.links()).toEqual([a.id]);

    runtime.monitor(a.id, lone.id);
    expect(lone.watchers?.size).toBe(1);

    // Messages to a suspended process queue, in order; once handled the queue is gone again.
    runtime.hold(lone);
    const calls = [runtime.call(lone.id, 1), runtime.call(lone.id, 2)];
    expect(lone.mailbox).toHaveLength(2);
    runtime.resume(lone);
    expect(await Promise.all(calls)).toEqual([1, 2]);
    expect(lone.queue).toBeUndefined();
    expect(lone.mailbox).toEqual([]);
  });

  it("suspending and resuming a process changes its status and allocates nothing for it", async () => {
    const { runtime } = withApi({ "a/s": SERVER });
    const idle = await startServer(runtime, "a/s", {});
    expect(runtime.suspendNow(idle)).toBeUndefined();
    expect(idle.status).toBe("suspended");
    expect(fields(idle)).toEqual({ links: [], watchers: undefined, queue: undefined });
    runtime.resume(idle);
    expect(idle.status).toBe("running");

    // A busy process is waited for; its waiters go with its handler.
    const g = gate();
    (globalThis as { __gate?: Promise<void> }).__gate = g.promise;
    const busy = await startServer(runtime, "a/s", {});
    const call = runtime.call(busy.id, "wait");
    const suspended = runtime.suspendNow(busy);
    expect(suspended).toBeInstanceOf(Promise);
    g.open();
    await suspended;
    runtime.resume(busy);
    expect(await call).toBe(0);
  });

  it("processes that use the same modules share one module list", async () => {
    const { runtime } = withApi({ "a/s": SERVER });
    const [x, y] = [await startServer(runtime, "a/s", {}, { modules: ["a/t"] }), await startServer(runtime, "a/s", {}, { modules: ["a/t"] })];
    expect(x.modules).toEqual(["a/s", "a/t"]);
    expect(x.modules).toBe(y.modules);
    expect(Object.isFrozen(x.modules)).toBe(true);
  });
});

describe("a supervisor's start", () => {
  const WORKER = `exports.behaviour = "server"; exports.init = (a) => ({ id: a.id }); exports.handleCall = (r, f, s) => ({ reply: s.id, state: s });`;
  const ASYNC_WORKER = `exports.behaviour = "server"; exports.init = async (a) => { (globalThis.__order ??= []).push(a.id); await null; return { id: a.id }; }; exports.handleCall = (r, f, s) => ({ reply: s.id, state: s });`;
  const SUP = (n: number, module = "worker", failAt = -1) => `exports.behaviour = "supervisor"; exports.init = () => ({ children: Array.from({ length: ${n} }, (_, i) => ({ id: "w" + i, module: i === ${failAt} ? "broken" : "${module}", name: "w" + i, args: { id: i } })) });`;
  const BROKEN = `exports.behaviour = "server"; exports.init = () => { throw new Error("broken child"); };`;

  it("starts children whose init is synchronous without a promise per child", async () => {
    const n = 2_000;
    const { runtime } = withApi({ "a/worker": WORKER, "a/sup": SUP(n) });
    let promises = 0;
    const hook = createHook({ init: (_id, type) => void (type === "PROMISE" && promises++) }).enable();
    let sup: Proc;
    try {
      sup = await startSupervisor(runtime, "a/sup", {});
    } finally {
      hook.disable();
    }
    expect(runtime.processCount()).toBe(n + 1);
    expect(promises).toBeLessThan(n / 10);
    expect(await runtime.call(`w${n - 1}`, "id")).toBe(n - 1);
    expect(sup.links()).toHaveLength(n);
  });

  it("still starts them one by one in order, waits for an async init, and stops at the first that fails", async () => {
    const { runtime } = withApi({ "a/worker": ASYNC_WORKER, "a/broken": BROKEN, "a/sup": SUP(5) });
    (globalThis as { __order?: number[] }).__order = [];
    await startSupervisor(runtime, "a/sup", {});
    expect((globalThis as { __order?: number[] }).__order).toEqual([0, 1, 2, 3, 4]);

    const failing = withApi({ "a/worker": WORKER, "a/broken": BROKEN, "a/sup": SUP(6, "worker", 3) });
    await expect(startSupervisor(failing.runtime, "a/sup", {})).rejects.toThrow(/broken child/);
    // The children started before the failing one were stopped; none after it was started.
    expect(failing.runtime.processCount()).toBe(0);
    expect(failing.runtime.get("w4")).toBeUndefined();
  });
});
