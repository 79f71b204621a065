/**
 * The executor over its port, in the test process: a real Runtime, ModuleTable, supervisor and
 * application controller adapted by runtimePort, no Node, no release on disk (the target release's object
 * code is compiled from source in memory), and a manual clock that decides every timeout. Covers:
 *   - a failure after any step past the point of no return puts the node back exactly as it was: module
 *     versions, process states, suspended processes resumed with their queued messages, stopped children
 *     running again, the children a supervisor's code change started stopped (and not started again by
 *     the undo of a stop step that had stopped one of them)
 *   - a codeChange that does not settle within its timeout (on the clock) rolls back, and its late result is ignored
 *   - a suspend that times out (on the clock) names the busy process and resumes the ones it suspended
 *   - a rollback whose own step fails reports "rollback incomplete"
 *   - the executor and its steps reach the node only through the port
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { AppFile } from "../../src/release/app-file.ts";
import type { Instruction } from "../../src/relup/instruction.ts";
import { ApplicationController } from "../../src/runtime/application-controller.ts";
import { ManualClock } from "../../src/runtime/clock.ts";
import { execute, InstallError } from "../../src/runtime/executor.ts";
import { ModuleTable } from "../../src/runtime/module-table.ts";
import { runtimePort } from "../../src/runtime/node-port.ts";
import { Runtime } from "../../src/runtime/runtime.ts";
import { startServer } from "../../src/runtime/server.ts";
import { startSupervisor } from "../../src/runtime/supervisor.ts";
import { gate } from "../helpers/runtime.ts";

type Globals = { __between?: () => void; __slowInit?: Promise<void>; __initStarted?: () => void; __migrating?: () => void; __migrated?: Promise<unknown>; __hold?: Promise<void> };
const g = globalThis as unknown as Globals;
afterEach(() => {
  for (const key of ["__between", "__slowInit", "__initStarted", "__migrating", "__migrated", "__hold"] as const) delete g[key];
});

const COUNTER_1 = `exports.behaviour = "server";
exports.init = () => ({ n: 0 });
exports.handleCall = async (req, from, s) => {
  if (req === "hold") { await globalThis.__hold; return { reply: "held", state: s }; }
  if (req === "get") return { reply: { v: 1, n: s.n }, state: s };
  return { reply: s.n + 1, state: { n: s.n + 1 } };
};`;
const COUNTER_2 = `exports.behaviour = "server";
exports.init = () => ({ count: 0 });
exports.handleCall = (req, from, s) => ({ reply: { v: 2, n: s.count }, state: s });
exports.codeChange = (old, s) => {
  if (globalThis.__migrated) { globalThis.__migrating(); return globalThis.__migrated; }
  return { count: s.n, from: old };
};`;
const W = (v: number) => `exports.behaviour = "server";
exports.init = () => { if (globalThis.__slowInit) { globalThis.__initStarted(); return globalThis.__slowInit.then(() => ({ w: ${v} })); } return { w: ${v} }; };
exports.handleCall = (req, from, s) => ({ reply: "w${v}", state: s });
exports.codeChange = (old, s) => s;`;
const SUP = (children: object[]) => `exports.behaviour = "supervisor"; exports.init = () => ({ children: ${JSON.stringify(children)} });`;
const SUP_1 = SUP([{ id: "w", module: "w", name: "worker" }]);
const SUP_2 = SUP([
  { id: "w", module: "w", name: "worker" },
  { id: "x", module: "x", name: "extra" },
  { id: "y", module: "w", name: "extra-worker" },
]);
const FAIL = `exports.now = () => { globalThis.__between?.(); throw new Error("later step fails"); };`;

const app = (version: string): AppFile => ({ format: 1, name: "a", version, applications: [], env: {}, modules: [] }) as never;

/** A runtime with release 1 running: a counter (n = 2), a supervisor with one worker child; release 2 in memory. */
async function inProcess() {
  const clock = new ManualClock();
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const log = (event: string, fields: Record<string, unknown>) => void logs.push({ event, fields });
  const table = new ModuleTable({ runtimeApi: () => ({}) });
  const runtime = new Runtime(table, { clock });
  const controller = new ApplicationController(runtime, { log });
  const load = (module: string, code: string, vsn: number) => table.load(table.compile(module, code, `/virtual/${vsn}/${module}.js`, { vsn, sha256: String(vsn) }));
  for (const [module, code] of Object.entries({ "a/counter": COUNTER_1, "a/sup": SUP_1, "a/w": W(1), "a/x": W(1), "a/fail": FAIL })) load(module, code, 1);
  const release2: Record<string, string> = { "a/counter": COUNTER_2, "a/sup": SUP_2, "a/w": W(2) };
  const readObjectCode = (_dir: string, _apps: readonly AppFile[], ref: string) => {
    const code = release2[ref];
    if (code === undefined) throw new Error(`module ${ref} is not in the release`);
    return table.compile(ref, code, `/virtual/2/${ref}.js`, { vsn: 2, sha256: "2" });
  };
  const port = runtimePort({ runtime, controller, readObjectCode, log });
  await startSupervisor(runtime, "a/sup", null, { name: "sup" });
  await startServer(runtime, "a/counter", null, { name: "counter" });
  await runtime.call("counter", "bump");
  await runtime.call("counter", "bump");
  const run = (script: Instruction[], options: { codeChangeTimeout?: number } = {}) => execute(script, { port, target: { dir: "/virtual", apps: [app("2.0.0")] }, ...options });
  return { clock, runtime, table, logs, run };
}

type World = Awaited<ReturnType<typeof inProcess>>;

/** What a rollback must put back: module versions, and each named process's module list, status and state. */
function observe({ runtime, table }: World) {
  return {
    modules: table.modules().map((m) => ({ module: m, current: table.current(m)?.vsn ?? null, old: table.old(m)?.vsn ?? null })),
    processes: runtime
      .processes()
      .map((p) => ({ name: p.name ?? p.pid, module: p.module, modules: p.modules, status: p.status, state: p.behaviour.kind === "server" ? p.state : "(supervisor)" }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

const children = async ({ runtime }: World) => ((await runtime.call("sup", { op: "which_children" })) as { id: string; pid: string | null; modules: string[] }[]).map((c) => ({ id: c.id, running: c.pid !== null, modules: c.modules }));

const failing: Instruction = { op: "apply", module: "a/fail", function: "now", args: [] };
const upgrade: Instruction[] = [
  { op: "load_object_code", application: "a", version: "2.0.0", modules: ["counter", "sup", "w"] },
  { op: "point_of_no_return" },
  { op: "suspend", modules: ["a/counter", "a/sup"] },
  { op: "load", module: "a/counter", prePurge: "brutal_purge", postPurge: "brutal_purge" },
  { op: "load", module: "a/sup", prePurge: "brutal_purge", postPurge: "brutal_purge" },
  {
    op: "code_change",
    mode: "up",
    modules: [
      { module: "a/counter", extra: null },
      { module: "a/sup", extra: null },
    ],
  },
  { op: "resume", modules: ["a/counter", "a/sup"] },
  { op: "stop", modules: ["a/w"] },
  { op: "load", module: "a/w", prePurge: "brutal_purge", postPurge: "brutal_purge" },
  { op: "start", modules: ["a/w"] },
  { op: "purge", modules: ["a/counter", "a/sup", "a/w"] },
];

describe("the executor over its port, in process", () => {
  it("runs the whole upgrade: new code current, states migrated, the supervisor's new child started", async () => {
    const world = await inProcess();
    await world.run(upgrade);
    expect(observe(world).modules.filter((m) => m.module !== "a/fail" && m.module !== "a/x")).toEqual([
      { module: "a/counter", current: 2, old: null },
      { module: "a/sup", current: 2, old: null },
      { module: "a/w", current: 2, old: null },
    ]);
    expect(world.runtime.get("counter")!.state).toEqual({ count: 2, from: 1 });
    expect(await world.runtime.call("counter", "get")).toEqual({ v: 2, n: 2 });
    expect(await world.runtime.call("worker", "ping")).toBe("w2");
    expect(await children(world)).toEqual([
      { id: "w", running: true, modules: [] },
      { id: "x", running: true, modules: [] },
      { id: "y", running: true, modules: [] },
    ]);
  });

  // After step k (k from the point of no return on), a failing step: everything goes back.
  it.each(upgrade.map((i, k) => ({ k, op: i.op })).slice(1))("a failure right after step $k ($op) puts the node back exactly as it was", async ({ k }) => {
    const world = await inProcess();
    const before = observe(world);
    const childrenBefore = await children(world);
    const counterState = world.runtime.get("counter")!.state;
    // A call that reaches the counter while the failing step runs: a suspended counter queues it, and
    // answers it with the old code and state once the rollback resumed it; a running one answers at once.
    let queued: Promise<unknown> | undefined;
    let suspended = false;
    g.__between = () => {
      suspended = world.runtime.get("counter")!.status === "suspended";
      queued = world.runtime.call("counter", "get");
    };
    const error = await world.run([...upgrade.slice(0, k + 1), failing]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    expect((error as InstallError).index).toBe(k + 1);
    expect((error as InstallError).rollbackFailures).toEqual([]);
    expect(observe(world)).toEqual(before);
    expect(world.runtime.get("counter")!.state).toBe(counterState);
    expect(suspended).toBe(k >= 2 && k <= 5);
    expect(await queued).toEqual(suspended ? { v: 1, n: 2 } : { v: k < 2 ? 1 : 2, n: 2 });
    expect(await children(world)).toEqual(childrenBefore);
    expect(await world.runtime.call("worker", "ping")).toBe("w1");
    // Children the supervisor's code change started are gone, even one a later stop step had stopped.
    expect(world.runtime.whereis("extra")).toBeUndefined();
    expect(world.runtime.whereis("extra-worker")).toBeUndefined();
  });

  it("a codeChange that does not settle within its timeout on the clock rolls back, and its late state is ignored", async () => {
    const world = await inProcess();
    const before = observe(world);
    const migrating = gate();
    const late = gate<unknown>();
    g.__migrating = migrating.open;
    g.__migrated = late.promise;
    const script: Instruction[] = [
      upgrade[0]!,
      { op: "point_of_no_return" },
      { op: "suspend", modules: ["a/counter"] },
      { op: "load", module: "a/counter", prePurge: "brutal_purge", postPurge: "brutal_purge" },
      { op: "code_change", mode: "up", modules: [{ module: "a/counter", extra: null, timeout: 1000 }] },
      { op: "resume", modules: ["a/counter"] },
    ];
    let settled = false;
    const run = world.run(script).finally(() => (settled = true));
    await migrating.promise;
    world.clock.advance(999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    world.clock.advance(1);
    const error = (await run.catch((e: unknown) => e)) as InstallError;
    expect(error).toBeInstanceOf(InstallError);
    expect(error.index).toBe(4);
    expect(error.where.module).toBe("a/counter");
    expect(error.message).toContain("did not settle within 1000 ms");
    expect(observe(world)).toEqual(before);
    late.open({ count: 99 });
    await late.promise;
    expect(await world.runtime.call("counter", "get")).toEqual({ v: 1, n: 2 });
  });

  it("the install's codeChangeTimeout overrides the plan's, on the same clock", async () => {
    const world = await inProcess();
    const migrating = gate();
    g.__migrating = migrating.open;
    g.__migrated = new Promise(() => {});
    const script: Instruction[] = [upgrade[0]!, upgrade[1]!, { op: "suspend", modules: ["a/counter"] }, upgrade[3]!, { op: "code_change", mode: "up", modules: [{ module: "a/counter", extra: null, timeout: 60_000 }] }];
    const run = world.run(script, { codeChangeTimeout: 10 });
    await migrating.promise;
    world.clock.advance(10);
    await expect(run).rejects.toThrow("did not settle within 10 ms");
    expect(world.runtime.get("counter")!.status).toBe("running");
    expect(world.table.current("a/counter")!.vsn).toBe(1);
  });

  it("a suspend that times out on the clock names the busy process and resumes the ones it had suspended", async () => {
    const world = await inProcess();
    const before = observe(world);
    const hold = gate();
    g.__hold = hold.promise;
    const held = world.runtime.call("counter", "hold", 60_000);
    const counter = world.runtime.get("counter")!;
    expect(counter.busy).toBe(true);
    let settled = false;
    const run = world.run([{ op: "point_of_no_return" }, { op: "suspend", modules: ["a/w", "a/counter"], timeout: 500 }]).finally(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(world.runtime.get("worker")!.status).toBe("suspended");
    world.clock.advance(499);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    world.clock.advance(1);
    const error = (await run.catch((e: unknown) => e)) as InstallError;
    expect(error).toBeInstanceOf(InstallError);
    expect(error.where).toEqual({ module: "a/counter", pid: counter.pid });
    expect(error.message).toContain(`process ${counter.pid} (a/counter) did not suspend within 500 ms`);
    expect(observe(world)).toEqual(before);
    hold.open();
    expect(await held).toBe("held");
    expect(await world.runtime.call("worker", "ping")).toBe("w1");
  });

  it("a rollback whose restart of a stopped child times out on the clock reports rollback incomplete", async () => {
    const world = await inProcess();
    const slow = gate();
    const initStarted = gate();
    // The failing step makes the worker's next start hang: the rollback's restart_child waits for it.
    g.__between = () => {
      g.__slowInit = slow.promise;
      g.__initStarted = initStarted.open;
    };
    const run = world.run([{ op: "point_of_no_return" }, { op: "stop", modules: ["a/w"] }, failing]);
    await initStarted.promise;
    // terminate_child/restart_child wait the child's shutdown (5000 ms) plus the ordinary call timeout (5000 ms).
    world.clock.advance(10_000);
    const error = (await run.catch((e: unknown) => e)) as InstallError;
    expect(error).toBeInstanceOf(InstallError);
    expect(error.rollbackFailures).toHaveLength(1);
    expect(error.rollbackFailures[0]).toMatch(/timed out after 10000 ms/);
    expect(error.message).toContain("later step fails; rollback incomplete: ");
    expect(world.logs.some((l) => l.event === "rollback step failed")).toBe(true);
    // The start it gave up on still finishes: the supervisor then runs its child again.
    delete g.__slowInit;
    slow.open();
    await slow.promise;
    expect(await world.runtime.call("sup", { op: "which_children" })).toEqual([expect.objectContaining({ id: "w", pid: expect.any(String) })]);
  });
});

describe("the seam", () => {
  const runtimeDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../src/runtime");
  const files = ["executor.ts", ...readdirSync(path.join(runtimeDir, "steps")).map((f) => `steps/${f}`)];

  it.each(files)("%s reaches the node only through the port", (file) => {
    const source = readFileSync(path.join(runtimeDir, file), "utf8");
    expect(source).not.toMatch(/from "\.\.?\/(\.\.\/)?(runtime\/)?node\.ts"/);
    expect(source).not.toMatch(/from "\.\.?\/supervisor\.ts"/);
    expect(source).not.toMatch(/\bSupState\b/);
    expect(source).not.toMatch(/\.(status|state)\s*=[^=]/);
    expect(source).not.toMatch(/\bo\.node\b|\bnode\.runtime\b/);
  });
});
