/**
 * The executor's loops over processes (suspend, code_change, resume) yield to the event loop by time, not
 * by a count of processes: after `sliceMs` on the executor's clock (read every CHECK_EVERY processes),
 * however many processes that was. The clock is injected, so the slices are exact: code_change reports
 * progress at each yield.
 */
import { stat } from "node:fs";
import { describe, expect, it } from "vitest";
import type { AppFile } from "../../src/release/app-file.ts";
import type { Instruction } from "../../src/relup/instruction.ts";
import { ApplicationController } from "../../src/runtime/application-controller.ts";
import { execute, InstallError, type Progress } from "../../src/runtime/executor.ts";
import { Node } from "../../src/runtime/node.ts";
import { runtimePort } from "../../src/runtime/node-port.ts";
import type { Proc } from "../../src/runtime/process.ts";
import { startServer } from "../../src/runtime/server.ts";
import { CHECK_EVERY } from "../../src/runtime/steps/time-slice.ts";
import { testRuntime } from "../helpers/runtime.ts";

const W1 = `exports.behaviour = "server"; exports.init = (n) => ({ n }); exports.handleCall = (req, from, s) => ({ reply: s, state: s });`;
const W2 = `exports.behaviour = "server"; exports.init = (n) => ({ m: n }); exports.handleCall = (req, from, s) => ({ reply: s, state: s }); exports.codeChange = (old, s) => ({ m: s.n });`;
const N = 1_000;
const script: Instruction[] = [
  { op: "load_object_code", application: "a", version: "2.0.0", modules: ["w"] },
  { op: "point_of_no_return" },
  { op: "suspend", modules: ["a/w"] },
  { op: "load", module: "a/w", prePurge: "brutal_purge", postPurge: "brutal_purge" },
  { op: "code_change", mode: "up", modules: [{ module: "a/w", extra: null }] },
  { op: "resume", modules: ["a/w"] },
];

/** `count` server processes of a/w 1 in a test runtime, its port (reading a/w 2 for the upgrade) and the target's app. */
async function serversOfW1(count: number) {
  const { runtime, table } = testRuntime({ "a/w": W1 });
  const log = () => undefined;
  const controller = new ApplicationController(runtime, { log });
  const readObjectCode = (_dir: string, _apps: readonly AppFile[], ref: string) => table.compile(ref, W2, `/virtual/2/${ref}.js`, { vsn: 2, sha256: "2" });
  const port = runtimePort({ runtime, controller, readObjectCode, log });
  for (let n = 0; n < count; n++) await startServer(runtime, "a/w", n);
  const app = { format: 1, name: "a", version: "2.0.0", applications: [], env: {}, modules: [] } as never as AppFile;
  return { runtime, port, app };
}

/** N server processes of a/w 1, upgraded to 2 with the given slice options; the code_change progress seen. */
async function upgrade(options: { sliceMs?: number; now?: () => number }): Promise<number[]> {
  const { runtime, port, app } = await serversOfW1(N);
  const done: number[] = [];
  const progress = (event: Progress) => void (event.phase === "code_change" && done.push(event.done));
  await execute(script, { port, target: { dir: "/virtual", apps: [app] }, progress, ...options });
  // Every process migrated and running again.
  const states = runtime.processes().map((p) => [p.status, p.state] as const);
  expect(states).toHaveLength(N);
  expect(states.every(([status, state]) => status === "running" && typeof (state as { m: number }).m === "number")).toBe(true);
  return done;
}

describe("the executor's time slices", () => {
  it("a clock that moves 1 ms per read with 5 ms slices: a yield every 5 reads, whatever the count", async () => {
    let t = 0;
    const done = await upgrade({ sliceMs: 5, now: () => t++ });
    expect(done.at(-1)).toBe(N);
    const gaps = done.slice(1, -1).map((d, k) => d - done[k]!);
    expect(gaps.length).toBeGreaterThan(0);
    // Five reads of CHECK_EVERY processes each (the read after a yield starts the slice).
    expect(new Set(gaps)).toEqual(new Set([5 * CHECK_EVERY]));
  });

  it("a clock that does not move: the whole fleet in one slice, with no yield", async () => {
    expect(await upgrade({ sliceMs: 5, now: () => 0 })).toEqual([N]);
  });

  it("a clock that moves 10 ms per read: a yield at every read", async () => {
    let t = 0;
    const done = await upgrade({ sliceMs: 5, now: () => (t += 10) });
    const gaps = done.slice(1, -1).map((d, k) => d - done[k]!);
    expect(new Set(gaps)).toEqual(new Set([CHECK_EVERY]));
  });
});

describe("code_change skips, as it reaches them, the processes that only declare the module", () => {
  it("migrates the module's own processes around them, counts only those, and a failure after them puts back exactly the states it changed", async () => {
    const n = new Node({ releaseDir: "/nonexistent", log: () => {} });
    const load = (module: string, code: string, vsn: number) => n.table.load(n.table.compile(module, code, `/virtual/${vsn}/${module}.js`, { vsn, sha256: `${module}@${vsn}` }));
    load("a/w", W1, 1);
    load("a/other", `exports.behaviour = "server"; exports.init = () => ({ mine: true }); exports.handleCall = (req, from, s) => ({ reply: s, state: s }); exports.codeChange = () => { throw new Error("not its module"); };`, 1);
    // Processes of a/w with one that only declares a/w among them, in the module's index order.
    const first = await startServer(n.runtime, "a/w", 1);
    const declares = await startServer(n.runtime, "a/other", null, { modules: ["a/w"] });
    const rest = [await startServer(n.runtime, "a/w", 2), await startServer(n.runtime, "a/w", 3)];
    load("a/w", `exports.behaviour = "server"; exports.init = (n) => ({ m: n }); exports.handleCall = (req, from, s) => ({ reply: s, state: s });
      exports.codeChange = (old, s) => { if (s.n === 3) throw new Error("three fails"); return { m: s.n }; };`, 2);
    const done: { done: number; total: number }[] = [];
    const progress = (event: Progress) => void (event.phase === "code_change" && done.push({ done: event.done, total: event.total }));
    const script: Instruction[] = [
      { op: "point_of_no_return" },
      { op: "suspend", modules: ["a/w"] },
      { op: "code_change", mode: "up", modules: [{ module: "a/w", extra: null }] },
      { op: "resume", modules: ["a/w"] },
    ];
    const error = await execute(script, { port: n.port, target: { dir: "/nonexistent", apps: [] }, progress }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    // The third of the module's own three processes failed; the one that only declares it is not counted.
    expect((error as InstallError).message).toContain("codeChange failed for process 3 of 3: three fails");
    // One progress line, from the failure: how far the migration got (4 processes are fewer than a clock
    // read's worth, so none came from a yield), the process that only declares the module not counted.
    expect(done).toEqual([{ done: 2, total: 3 }]);
    // Every state as it was, the skipped process's too, and every process running.
    expect([first, declares, ...rest].map((p) => [p.status, p.state])).toEqual([
      ["running", { n: 1 }],
      ["running", { mine: true }],
      ["running", { n: 2 }],
      ["running", { n: 3 }],
    ]);
  });
});

describe("a yield lets timers run", () => {
  it("an install started from an I/O callback (as a control request is) lets a due timer run at its first yield, not its second", async () => {
    const { runtime, port, app } = await serversOfW1(4 * CHECK_EVERY);
    // A slice ends at every read of the clock but the one that starts it: a yield every CHECK_EVERY processes.
    let reads = 0;
    let readsWhenTimerRan: number | undefined;
    const options = { port, target: { dir: "/virtual", apps: [app] }, now: () => 10 * reads++ };
    await new Promise<void>((resolve, reject) => {
      // In an I/O callback (the poll phase), with a timer that is due by the time the callback returns.
      stat(".", () => {
        setTimeout(() => void (readsWhenTimerRan = reads), 0);
        const due = performance.now() + 2;
        while (performance.now() < due);
        execute(script, options).then(() => resolve(), reject);
      });
    });
    // The first yield is the one after load_object_code (compiling and the swap are two blocks): one
    // read, the one that started the install's first slice. The timer ran before the next slice began.
    expect(readsWhenTimerRan).toBe(1);
    expect(runtime.processes().every((p) => p.status === "running" && typeof (p.state as { m: number }).m === "number")).toBe(true);
  });
});

describe("the suspend step's pass over the process map", () => {
  it("walks the index itself while it yields: a process started meanwhile is suspended and migrated too, one that died is skipped", async () => {
    const { runtime, port, app } = await serversOfW1(4 * CHECK_EVERY);
    const last = runtime.processes().at(-1)!;
    // Every read of the clock but the first ends a slice: the pass yields after its first CHECK_EVERY
    // processes, and in that yield a process starts and the last one dies.
    let reads = 0;
    let late: Promise<Proc> | undefined;
    setImmediate(() => {
      late = startServer(runtime, "a/w", -1);
      void runtime.exit(last, "kill");
    });
    await execute(script, { port, target: { dir: "/virtual", apps: [app] }, now: () => 10 * reads++ });
    const started = await late!;
    expect(started.state).toEqual({ m: -1 });
    expect(started.status).toBe("running");
    expect(last.status).toBe("dead");
    expect(runtime.processes().every((p) => p.status === "running" && typeof (p.state as { m: number }).m === "number")).toBe(true);
  });
});
