/**
 * remove and purge in the executor, on an in-process node (the steps under test run for real; only the
 * release on disk is left out, as these scripts read no object code): a removed module's processes keep
 * running its old code until the purge, which kills them (brutal) or refuses (soft); the forecast the
 * preflight uses finds the same processes; a supervisor's code change refreshes its children's modules.
 */
import { describe, expect, it } from "vitest";
import type { Instruction } from "../../src/relup/instruction.ts";
import { execute, InstallError } from "../../src/runtime/executor.ts";
import { Node } from "../../src/runtime/node.ts";
import { forecastPurges } from "../../src/runtime/purge-forecast.ts";
import { startServer } from "../../src/runtime/server.ts";
import { startSupervisor } from "../../src/runtime/supervisor.ts";

const COUNTER = `
exports.behaviour = "server";
exports.init = () => ({ n: 0 });
exports.handleCall = (req, from, s) => ({ reply: s.n + 1, state: { n: s.n + 1 } });
exports.terminate = (reason) => { globalThis.__terminated.push(reason); };
`;
const WATCHER = `
exports.behaviour = "server";
exports.init = () => ({ seen: [] });
exports.handleCall = (req, from, s) => ({ reply: s.seen, state: s });
exports.handleInfo = (msg, s) => ({ seen: [...s.seen, msg.type + " " + msg.reason] });
`;
const SUP = (children: { id: string; module: string; modules?: string[] }[]) => `
exports.behaviour = "supervisor";
exports.init = () => ({ children: ${JSON.stringify(children)} });
`;

const terminated = ((globalThis as unknown as { __terminated: unknown[] }).__terminated = []);

function node(modules: Record<string, string>) {
  const n = new Node({ releaseDir: "/nonexistent" });
  let vsn = 1;
  const load = (module: string, code: string) => {
    if (n.table.old(module)) n.table.purge(module, "brutal");
    n.table.load(n.table.compile(module, code, `/virtual/${module}.js`, { vsn, sha256: String(vsn++) }));
  };
  for (const [m, code] of Object.entries(modules)) load(m, code);
  const run = (script: Instruction[]) => execute(script, { port: n.port, target: { dir: "/nonexistent", apps: [] } });
  return { node: n, runtime: n.runtime, table: n.table, load, run };
}

const ponr: Instruction = { op: "point_of_no_return" };
const remove = (module: string, postPurge: "soft_purge" | "brutal_purge" = "brutal_purge"): Instruction => ({ op: "remove", module, prePurge: "brutal_purge", postPurge });
const purge = (...modules: string[]): Instruction => ({ op: "purge", modules });
const failing: Instruction = { op: "apply", module: "a/fail", function: "now", args: [] };
const FAIL = `exports.now = () => { throw new Error("later step fails"); };`;
/** Calls the counter between two steps, as any caller in the node would. */
const PROBE = `const { call } = require("relup/runtime"); exports.bump = async () => { globalThis.__probe.push(await call("counter", "bump")); };`;
const probe: Instruction = { op: "apply", module: "a/probe", function: "bump", args: [] };
const probed = ((globalThis as unknown as { __probe: unknown[] }).__probe = []);

describe("a removed module's processes", () => {
  it("keep running its old code after the remove (calls answered, state kept) until the purge kills them: exit reason killed, monitors and links told", async () => {
    const { runtime, table, node: n } = node({ "a/counter": COUNTER, "a/watcher": WATCHER, "a/probe": PROBE });
    const counter = await startServer(runtime, "a/counter", {}, { name: "counter" });
    const linked = await startServer(runtime, "a/watcher", {}, { link: counter.id });
    const watcher = await startServer(runtime, "a/watcher", {});
    runtime.monitor(watcher.id, counter.pid);
    probed.length = 0;
    const kills: unknown[] = [];
    await execute([ponr, remove("a/counter"), probe, probe, purge("a/counter")], { port: n.port, target: { dir: "", apps: [] }, onKilled: (_module, p) => kills.push(p) });
    expect(probed).toEqual([1, 2]);
    expect(kills).toEqual([{ module: "a/counter", pid: counter.pid, name: "counter" }]);
    expect(runtime.get(counter.pid)).toBeUndefined();
    expect(runtime.get(linked.pid)).toBeUndefined();
    expect(await runtime.call(watcher.pid, "seen")).toEqual(["DOWN killed"]);
    expect(table.modules()).not.toContain("a/counter");
  });

  it("a failure after the remove puts the module back; the process never noticed", async () => {
    const { runtime, table, run } = node({ "a/counter": COUNTER, "a/fail": FAIL });
    const counter = await startServer(runtime, "a/counter", {}, { name: "counter" });
    expect(await runtime.call(counter.pid, "bump")).toBe(1);
    await expect(run([ponr, remove("a/counter"), failing, purge("a/counter")])).rejects.toThrow("later step fails");
    expect(table.isLoaded("a/counter")).toBe(true);
    expect(await runtime.call(counter.pid, "bump")).toBe(2);
  });

  it("soft_purge refuses while a process still runs the removed module: the install rolls back and nothing is killed", async () => {
    const { runtime, table, run } = node({ "a/counter": COUNTER, "a/other": COUNTER });
    const counter = await startServer(runtime, "a/counter", {}, { name: "counter" });
    const other = await startServer(runtime, "a/other", {});
    // Every module of the purge is checked before any is dropped or killed.
    const error = (await run([ponr, remove("a/other"), remove("a/counter", "soft_purge"), purge("a/other", "a/counter")]).catch((e: Error) => e)) as InstallError;
    expect(error).toBeInstanceOf(InstallError);
    expect(error.message).toContain(`soft_purge of a/counter refused: 1 process still runs it (it was removed): ${counter.pid} (counter)`);
    expect(runtime.get(other.pid)).toBeDefined();
    expect(table.isLoaded("a/other")).toBe(true);
    expect(await runtime.call(counter.pid, "bump")).toBe(1);
  });

  it("a supervised child stopped by the plan's stop step runs its terminate while the code is loaded, and the purge then finds nobody", async () => {
    const { runtime, run, node: n } = node({ "a/counter": COUNTER, "a/sup": SUP([{ id: "c", module: "counter" }]) });
    const sup = await startSupervisor(runtime, "a/sup", {});
    const child = (await runtime.call(sup.pid, { op: "which_children" }) as { pid: string }[])[0]!.pid;
    terminated.length = 0;
    const script: Instruction[] = [ponr, { op: "stop", modules: ["a/counter"] }, remove("a/counter", "soft_purge"), purge("a/counter")];
    expect(forecastPurges(script, n)).toEqual([]);
    await run(script);
    expect(terminated).toEqual(["shutdown"]);
    expect(runtime.get(child)).toBeUndefined();
    expect(runtime.get(sup.pid)).toBeDefined();
  });
});

describe("a supervised child the plan does not stop", () => {
  it("is killed at the purge and deleted from its supervisor (spec and all), which does not try to restart it (its module is gone) and keeps running", async () => {
    const { runtime, node: n } = node({ "a/counter": COUNTER, "a/watcher": WATCHER, "a/sup": SUP([{ id: "w", module: "watcher" }, { id: "c", module: "counter" }]) });
    const sup = await startSupervisor(runtime, "a/sup", {});
    const child = runtime.processesUsing("a/counter")[0]!;
    const watcher = await startServer(runtime, "a/watcher", {});
    runtime.monitor(watcher.id, child.pid);
    const killed: string[] = [];
    await execute([ponr, remove("a/counter"), purge("a/counter")], { port: n.port, target: { dir: "", apps: [] }, onKilled: (_m, p) => killed.push(p.pid) });
    expect(killed).toEqual([child.pid]);
    expect(await runtime.call(watcher.pid, "seen")).toEqual(["DOWN killed"]);
    expect(runtime.get(sup.pid)).toBeDefined();
    expect(await runtime.call(sup.pid, { op: "which_children" })).toMatchObject([{ id: "w" }]);
  });
});

describe("the purge forecast (the install's preflight)", () => {
  it("lists the processes whose callback module a purge drops, except those the plan stops first; processes that only list the module are not its victims", async () => {
    const { runtime, node: n } = node({ "a/counter": COUNTER, "a/watcher": WATCHER, "a/sup": SUP([{ id: "c", module: "counter" }]) });
    await startSupervisor(runtime, "a/sup", {});
    const loner = await startServer(runtime, "a/counter", {}, { name: "loner" });
    await startServer(runtime, "a/watcher", {}, { modules: ["a/counter"] });
    const script: Instruction[] = [ponr, { op: "stop", modules: ["a/counter"] }, remove("a/counter"), purge("a/counter")];
    expect(forecastPurges(script, n)).toEqual([{ module: "a/counter", step: 3, method: "brutal_purge", processes: [{ pid: loner.pid, name: "loner", module: "a/counter" }] }]);
    expect(forecastPurges([ponr, remove("a/counter", "soft_purge"), purge("a/counter")], n)[0]).toMatchObject({ method: "soft_purge", step: 2 });
    expect(forecastPurges([ponr, remove("a/counter")], n)).toEqual([]);
  });
});

describe("a supervisor's code change and its children's modules", () => {
  it("a kept child whose spec lists new modules is found by them from then on; a failed upgrade puts the old list back", async () => {
    const { runtime, load, run } = node({ "a/counter": COUNTER, "a/fail": FAIL, "a/sup": SUP([{ id: "c", module: "counter", modules: ["counter"] }]) });
    const sup = await startSupervisor(runtime, "a/sup", {});
    const child = runtime.processesUsing("a/counter").find((p) => p.pid !== sup.pid)!;
    load("a/sup", SUP([{ id: "c", module: "counter", modules: ["counter", "helper"] }]));
    const changeSup: Instruction[] = [ponr, { op: "suspend", modules: ["a/sup"] }, { op: "code_change", mode: "up", modules: [{ module: "a/sup", extra: null }] }, { op: "resume", modules: ["a/sup"] }];
    await expect(run([...changeSup, failing])).rejects.toThrow("later step fails");
    expect(runtime.processesUsing("a/helper")).toEqual([]);
    expect(child.modules).toEqual(["a/counter"]);
    await run(changeSup);
    expect(runtime.processesUsing("a/helper")).toEqual([child]);
    expect(child.modules).toEqual(["a/counter", "a/helper"]);
  });
});

describe("a supervisor's code change and its dynamic children", () => {
  it("a child started with start_child is kept by a code change of its supervisor (its id is not in init's specs, but it was never there)", async () => {
    const { runtime, load, run } = node({ "a/counter": COUNTER, "a/sup": SUP([{ id: "c", module: "counter" }]) });
    const sup = await startSupervisor(runtime, "a/sup", {});
    const dynamic = (await runtime.call(sup.pid, { op: "start_child", spec: { id: "d", module: "counter" } })) as string;
    load("a/sup", SUP([{ id: "c", module: "counter" }, { id: "e", module: "counter" }]));
    await run([ponr, { op: "suspend", modules: ["a/sup"] }, { op: "code_change", mode: "up", modules: [{ module: "a/sup", extra: null }] }, { op: "resume", modules: ["a/sup"] }]);
    expect(runtime.get(dynamic)).toBeDefined();
    expect(((await runtime.call(sup.pid, { op: "which_children" })) as { id: string }[]).map((c) => c.id)).toEqual(["c", "e", "d"]);
  });
});

describe("stop, undone", () => {
  it("a rollback starts again only the children the stop step terminated, not those that were already stopped", async () => {
    const TRANSIENT = `exports.behaviour = "supervisor"; exports.init = () => ({ children: [{ id: "c", module: "counter", restart: "transient" }, { id: "d", module: "counter" }] });`;
    const { runtime, run } = node({ "a/counter": COUNTER, "a/fail": FAIL, "a/sup": TRANSIENT });
    const sup = await startSupervisor(runtime, "a/sup", {});
    await runtime.call(sup.pid, { op: "terminate_child", id: "c" });
    await expect(run([ponr, { op: "stop", modules: ["a/counter"] }, failing, { op: "start", modules: ["a/counter"] }])).rejects.toThrow("later step fails");
    expect(await runtime.call(sup.pid, { op: "which_children" })).toMatchObject([{ id: "c", pid: null }, { id: "d", pid: expect.any(String) }]);
  });
});
