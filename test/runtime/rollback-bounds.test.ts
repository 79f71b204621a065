/**
 * No wait of a rollback (or of a stop) is unbounded, whatever timeout release code wrote ("infinity"
 * included), on an in-process node with a manual clock:
 *   - undoing a resume waits for every module's busy processes together, at most ROLLBACK_WAIT_MS
 *   - undoing a supervisor's code change stops the children it started within that bound, then kills them
 *   - an application's stop waits for its top process at most the controller's stopTimeout, then kills it
 *   - a purge waits for the terminate of the processes linked to those it killed at most that bound
 */
import { describe, expect, it } from "vitest";
import type { AppFile } from "../../src/release/app-file.ts";
import type { Instruction } from "../../src/relup/instruction.ts";
import { ROLLBACK_WAIT_MS } from "../../src/runtime/bounded-wait.ts";
import { ManualClock } from "../../src/runtime/clock.ts";
import { execute } from "../../src/runtime/executor.ts";
import { Node } from "../../src/runtime/node.ts";
import { startServer } from "../../src/runtime/server.ts";
import { startSupervisor } from "../../src/runtime/supervisor.ts";
import { gate } from "../helpers/runtime.ts";

type Globals = { __gate: Promise<void>; __terminating: () => void };
const g = globalThis as unknown as Globals;

/** A manual clock that says when `count` timers of `ms` are set (the waits under test have begun). */
class WatchedClock extends ManualClock {
  #watch: { ms: number; count: number; resolve: () => void } | undefined;
  timers(ms: number, count = 1): Promise<void> {
    return new Promise((resolve) => (this.#watch = { ms, count, resolve }));
  }
  override setTimeout(fn: () => void, ms: number): unknown {
    const handle = super.setTimeout(fn, ms);
    const watch = this.#watch;
    if (watch && ms === watch.ms && --watch.count === 0) {
      this.#watch = undefined;
      watch.resolve();
    }
    return handle;
  }
}

function node(modules: Record<string, string>) {
  const clock = new WatchedClock();
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const n = new Node({ releaseDir: "/nonexistent", clock, log: (event, fields) => logs.push({ event, fields }) });
  let vsn = 1;
  for (const [module, code] of Object.entries(modules)) n.table.load(n.table.compile(module, code, `/virtual/${module}.js`, { vsn, sha256: String(vsn++) }));
  return { node: n, runtime: n.runtime, clock, logs };
}

const ponr: Instruction = { op: "point_of_no_return" };
const target = { dir: "", apps: [] };
const app = (start: string): AppFile => ({ format: 1, name: "a", version: "1.0.0", start, applications: [], env: {}, modules: [] });
const HUNG_TERMINATE = `exports.behaviour = "server"; exports.init = () => ({}); exports.handleCall = (r, f, s) => ({ reply: 1, state: s }); exports.terminate = async () => { globalThis.__terminating(); await new Promise(() => {}); };`;
const SUP = (children: object[]) => `exports.behaviour = "supervisor"; exports.init = () => ({ strategy: "one_for_one", children: ${JSON.stringify(children)} });`;

describe("rollback waits are bounded", () => {
  it("undoing a resume waits for every module's handlers together, at most ROLLBACK_WAIT_MS, even with an 'infinity' suspend timeout", async () => {
    const BUSY = `exports.behaviour = "server"; exports.init = () => ({}); exports.handleCall = async (r, f, s) => { await globalThis.__gate; return { reply: 1, state: s }; };`;
    // Starts a call on each (their handlers never finish), then fails the install.
    const FAIL = `const { call } = require("relup/runtime"); exports.now = () => { call("x", "go", 60000).catch(() => {}); call("y", "go", 60000).catch(() => {}); throw new Error("later step fails"); };`;
    const { node: n, runtime, clock, logs } = node({ "a/x": BUSY, "a/y": BUSY, "a/fail": FAIL });
    g.__gate = new Promise(() => {});
    const x = await startServer(runtime, "a/x", {}, { name: "x" });
    const y = await startServer(runtime, "a/y", {}, { name: "y" });
    const waiting = clock.timers(ROLLBACK_WAIT_MS, 2);
    const run = execute([ponr, { op: "suspend", modules: ["a/x", "a/y"], timeout: "infinity" }, { op: "resume", modules: ["a/x", "a/y"] }, { op: "apply", module: "a/fail", function: "now", args: [] }], { port: n.port, target });
    const failed = run.catch((e: Error) => e);
    await waiting;
    clock.advance(ROLLBACK_WAIT_MS);
    expect(((await failed) as Error).message).toContain("later step fails");
    const logged = logs.filter((l) => l.event.startsWith("rollback could not suspend")).map((l) => l.fields);
    expect(logged).toEqual([expect.objectContaining({ pid: x.pid, module: "a/x", timeoutMs: ROLLBACK_WAIT_MS }), expect.objectContaining({ pid: y.pid, module: "a/y", timeoutMs: ROLLBACK_WAIT_MS })]);
  });

  it("undoing a supervisor's code change kills a child it started whose terminate does not return", async () => {
    const FAIL = `exports.now = () => { throw new Error("later step fails"); };`;
    const V2 = SUP([{ id: "w2", module: "w2", shutdown: "infinity" }]);
    const { node: n, runtime, clock, logs } = node({ "a/w2": HUNG_TERMINATE, "a/sup": SUP([]), "a/fail": FAIL });
    const code = n.table.compile("a/sup", V2, "/virtual/a/sup-2.js", { vsn: 2, sha256: "v2" });
    n.readObjectCode = () => code;
    const sup = await startSupervisor(runtime, "a/sup", {});
    const terminating = gate();
    g.__terminating = () => terminating.open();
    const run = execute(
      [
        { op: "load_object_code", application: "a", version: "1.1.0", modules: ["sup"] },
        ponr,
        { op: "suspend", modules: ["a/sup"] },
        { op: "load", module: "a/sup", prePurge: "brutal_purge", postPurge: "brutal_purge" },
        { op: "code_change", mode: "up", modules: [{ module: "a/sup", extra: null }] },
        { op: "apply", module: "a/fail", function: "now", args: [] },
      ],
      { port: n.port, target: { dir: "", apps: [{ ...app("app"), version: "1.1.0", start: undefined }] } },
    ).catch((e: Error) => e);
    await terminating.promise;
    const started = runtime.processesUsing("a/w2")[0]!;
    clock.advance(ROLLBACK_WAIT_MS);
    expect(((await run) as Error).message).toContain("later step fails");
    expect(started.status).toBe("dead");
    expect(logs).toContainEqual(expect.objectContaining({ event: expect.stringContaining("rollback killed a child"), fields: expect.objectContaining({ pid: started.pid }) }));
    expect(runtime.get(sup.pid)).toBeDefined();
  });

  it("an application's stop kills its top process when its tree does not stop within stopTimeout (a child with shutdown infinity hangs)", async () => {
    const APP = `exports.behaviour = "application"; exports.start = () => require("relup/runtime").startSupervisor("a/top", {});`;
    const { node: n, runtime, clock, logs } = node({ "a/w": HUNG_TERMINATE, "a/top": SUP([{ id: "w", module: "w", shutdown: "infinity" }]), "a/app": APP });
    n.controller.load(app("app"));
    await n.controller.start("a");
    const top = runtime.processesUsing("a/top")[0]!;
    const child = runtime.processesUsing("a/w")[0]!;
    const terminating = gate();
    g.__terminating = () => terminating.open();
    const stopped = n.controller.stop("a");
    await terminating.promise;
    clock.advance(n.controller.stopTimeout);
    await stopped;
    expect(n.controller.list().find((a) => a.name === "a")?.status).toBe("stopped");
    expect([top.status, child.status]).toEqual(["dead", "dead"]);
    expect(logs).toContainEqual({ event: "application top process killed: it did not stop in time", fields: { application: "a", pid: top.pid, timeoutMs: n.controller.stopTimeout } });
  });

  it("a purge waits for the terminate of processes linked to those it killed at most ROLLBACK_WAIT_MS", async () => {
    const DOOMED = `exports.behaviour = "server"; exports.init = () => ({}); exports.handleCall = (r, f, s) => ({ reply: 1, state: s });`;
    const { node: n, runtime, clock, logs } = node({ "a/doomed": DOOMED, "a/other": HUNG_TERMINATE });
    const doomed = await startServer(runtime, "a/doomed", {});
    const other = await startServer(runtime, "a/other", {});
    runtime.link(doomed.id, other.id);
    const terminating = gate();
    g.__terminating = () => terminating.open();
    const run = execute([ponr, { op: "remove", module: "a/doomed", prePurge: "brutal_purge", postPurge: "brutal_purge" }, { op: "purge", modules: ["a/doomed"] }], { port: n.port, target });
    await terminating.promise;
    clock.advance(ROLLBACK_WAIT_MS);
    await run;
    expect(doomed.status).toBe("dead");
    expect(logs).toContainEqual(expect.objectContaining({ event: expect.stringContaining("purge went on before the processes linked"), fields: expect.objectContaining({ timeoutMs: ROLLBACK_WAIT_MS }) }));
  });
});
