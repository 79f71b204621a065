/**
 * An application start that timed out during an install but settles later must not collide with the
 * rollback's restart of the application; and a rollback that cannot put everything back says so in the
 * install's error, and a permanent application left stopped takes the node down (the launcher reboots it
 * on the permanent release). In-process node, real steps.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { AppFile } from "../../src/release/app-file.ts";
import type { Instruction } from "../../src/relup/instruction.ts";
import { execute, InstallError } from "../../src/runtime/executor.ts";
import { Node } from "../../src/runtime/node.ts";
import { startServer } from "../../src/runtime/server.ts";

type Globals = { __starts: number; __gate?: Promise<void>; __spawn?: () => Promise<string>; __failFrom?: number };
const g = globalThis as unknown as Globals;

const TOP = `exports.behaviour = "server"; exports.init = () => ({}); exports.handleCall = (r, f, s) => ({ reply: "ok", state: s });`;
/** Start 2 (the install's) registers its top, then waits on the gate; start __failFrom and later throw. */
const APP = `exports.behaviour = "application";
exports.start = async () => {
  const n = ++globalThis.__starts;
  if (globalThis.__failFrom !== undefined && n >= globalThis.__failFrom) throw new Error("cannot start " + n);
  const top = await globalThis.__spawn();
  if (n === 2) await globalThis.__gate;
  return top;
};
exports.stop = () => undefined;`;
const app: AppFile = { format: 1, name: "a", version: "1.0.0", start: "app", applications: [], env: {}, modules: [] } as never;
const restartApplication: Instruction[] = [
  { op: "apply", module: "application", function: "stop", args: ["a"] },
  { op: "apply", module: "application", function: "start", args: ["a"] },
];

async function setup() {
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const fatal: string[] = [];
  const n = new Node({ releaseDir: "/nonexistent", log: (event, fields) => logs.push({ event, fields }), onFatal: (reason) => fatal.push(reason) });
  let vsn = 1;
  for (const [m, code] of Object.entries({ "a/top": TOP, "a/app": APP })) n.table.load(n.table.compile(m, code, `/virtual/${m}.js`, { vsn, sha256: String(vsn++) }));
  g.__starts = 0;
  g.__spawn = async () => (await startServer(n.runtime, "a/top", {}, { name: "top" })).pid;
  n.controller.load(app);
  await n.controller.start("a");
  return { n, logs, fatal };
}

afterEach(() => {
  delete g.__gate;
  delete g.__spawn;
  delete g.__failFrom;
});

describe("a start that timed out, then the rollback's restart", () => {
  it("the restart waits for the late start, stops its top, and starts the application again", async () => {
    const { n, fatal } = await setup();
    let open!: () => void;
    g.__gate = new Promise((resolve) => (open = resolve));
    n.controller.startTimeout = 200;
    // The late start settles while the rollback runs, after the restart began waiting for it.
    const progress = (e: { phase: string }) => void (e.phase === "rollback" && setTimeout(open, 20));
    const error = await execute(restartApplication, { port: n.port, target: { dir: "", apps: [app] }, progress }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    expect((error as Error).message).toMatch(/did not start/);
    expect((error as Error).message).not.toMatch(/rollback incomplete/);
    const [entry] = n.controller.list();
    expect(entry!.status).toBe("running");
    expect(n.runtime.get("top")?.pid).toBe(entry!.top);
    expect(n.runtime.get(entry!.top!)).toBeDefined();
    expect(g.__starts).toBe(3);
    expect(fatal).toEqual([]);
  });

  it("a late start that never settles: the restart fails, the error says the rollback is incomplete, and the node stops", async () => {
    const { n, fatal } = await setup();
    g.__gate = new Promise(() => undefined);
    n.controller.startTimeout = 50;
    const error = await execute(restartApplication, { port: n.port, target: { dir: "", apps: [app] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    expect((error as Error).message).toMatch(/rollback incomplete: application a failed to start: .*already registered.*\(an earlier start of a that timed out still runs\)/);
    expect(n.controller.list()[0]!.status).toBe("stopped");
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatch(/permanent application a/);
  });

  it("a permanent application whose restart fails stops the node; a temporary one is reported only", async () => {
    for (const type of ["permanent", "temporary"] as const) {
      const { n, fatal } = await setup();
      await n.controller.stop("a");
      await n.controller.start("a", type);
      g.__failFrom = 3;
      const failing: Instruction = { op: "apply", module: "a/app", function: "missing", args: [] };
      const error = await execute([restartApplication[0]!, failing], { port: n.port, target: { dir: "", apps: [app] } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InstallError);
      expect((error as Error).message).toMatch(/does not export missing.*; rollback incomplete: application a failed to start: cannot start 3/);
      expect(fatal.length, type).toBe(type === "permanent" ? 1 : 0);
    }
  });
});
