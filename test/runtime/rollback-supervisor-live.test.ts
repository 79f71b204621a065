/**
 * A rollback that undoes a supervisor's code change puts back its specs and flags, but keeps what happened
 * to its children since: every child entry then names the process that runs it (or none), and the
 * supervisor keeps supervising it. In-process node, real steps; object code compiled from source.
 */
import { describe, expect, it } from "vitest";
import type { Instruction } from "../../src/relup/instruction.ts";
import { execute, InstallError } from "../../src/runtime/executor.ts";
import { Node } from "../../src/runtime/node.ts";
import { startSupervisor } from "../../src/runtime/supervisor.ts";

type Globals = { __between?: () => Promise<void> };
const g = globalThis as unknown as Globals;

const W = `exports.behaviour = "server"; exports.init = () => ({}); exports.handleCall = (r, f, s) => { if (r === "crash") throw new Error("boom"); return { reply: "ok", state: s }; };`;
const SUP = (tag: string, children: object[]) => `exports.behaviour = "supervisor"; exports.tag = ${JSON.stringify(tag)}; exports.init = () => ({ children: ${JSON.stringify(children)} });`;
/** The failing step: first does what the test put between the code change and the failure. */
const FAIL = `exports.now = async () => { if (globalThis.__between) await globalThis.__between(); throw new Error("later step fails"); };`;
const failing: Instruction = { op: "apply", module: "a/fail", function: "now", args: [] };
const target = { dir: "", apps: [{ format: 1, name: "a", version: "1", applications: [], env: {}, modules: [] } as never] };

interface Row {
  id: string;
  pid: string | null;
}

function setup(oldSup: string, newSup: string) {
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const n = new Node({ releaseDir: "/nonexistent", log: (event, fields) => logs.push({ event, fields }) });
  let vsn = 1;
  for (const [m, code] of Object.entries({ "a/w": W, "a/sup": oldSup, "a/fail": FAIL })) n.table.load(n.table.compile(m, code, `/virtual/${m}.js`, { vsn, sha256: String(vsn++) }));
  const code = n.table.compile("a/sup", newSup, "/virtual/sup2.js", { vsn: 99, sha256: "99" });
  n.readObjectCode = () => code;
  const which = async () => (await n.runtime.call("sup", { op: "which_children" })) as Row[];
  return { n, logs, which };
}

/** load, suspend, code_change and resume the supervisor, then `rest`, then a failing step */
const upgradeSupervisor = (...rest: Instruction[]): Instruction[] => [
  { op: "load_object_code", application: "a", version: "1", modules: ["sup"] },
  { op: "suspend", modules: ["a/sup"] },
  { op: "load", module: "a/sup", prePurge: "brutal_purge", postPurge: "brutal_purge" },
  { op: "code_change", mode: "up", modules: [{ module: "a/sup", extra: null }] },
  { op: "resume", modules: ["a/sup"] },
  ...rest,
  failing,
];

/** Every child entry names a live process or none, and every live process of `module` is one of them. */
function expectSupervised(n: Node, rows: Row[], module: string) {
  for (const row of rows) if (row.pid !== null) expect(n.runtime.get(row.pid), `child ${row.id} names ${row.pid}`).toBeDefined();
  const listed = rows.flatMap((r) => (r.pid ? [r.pid] : []));
  for (const p of n.runtime.processesUsing(module)) expect(listed).toContain(p.pid);
}

/** A crash of the child is still seen by its supervisor, which starts it again. */
async function expectRestartedOnCrash(n: Node, which: () => Promise<Row[]>, id: string) {
  const before = (await which()).find((r) => r.id === id)!.pid!;
  await n.runtime.call(before, "crash").catch(() => undefined);
  const after = (await which()).find((r) => r.id === id)!.pid;
  expect(after).not.toBeNull();
  expect(after).not.toBe(before);
  expect(n.runtime.get(after!)).toBeDefined();
}

/** The supervisor upgrade, with `between` run after its code change; the install fails after it and rolls back. */
async function failAfterCodeChange(n: ReturnType<typeof setup>["n"], between: () => Promise<void>): Promise<void> {
  g.__between = between;
  try {
    expect(await execute(upgradeSupervisor(), { port: n.port, target }).catch((e: unknown) => e)).toBeInstanceOf(InstallError);
  } finally {
    delete g.__between;
  }
}

describe("rolling back a supervisor's code change keeps its children's live facts", () => {
  it("a dynamic child started after the code change stays a supervised child", async () => {
    const { n, which } = setup(SUP("v1", [{ id: "w", module: "w" }]), SUP("v2", [{ id: "w", module: "w" }]));
    await startSupervisor(n.runtime, "a/sup", null, { name: "sup" });
    let dynamic = "";
    await failAfterCodeChange(n, async () => void (dynamic = (await n.runtime.call("sup", { op: "start_child", spec: { id: "d", module: "w" } })) as string));
    const rows = await which();
    expect(rows.map((r) => r.id)).toEqual(["w", "d"]);
    expect(rows.find((r) => r.id === "d")!.pid).toBe(dynamic);
    expectSupervised(n, rows, "a/w");
    await expectRestartedOnCrash(n, which, "d");
  });

  it("a child its supervisor restarted after the code change is the one the restored supervisor names", async () => {
    const { n, which } = setup(SUP("v1", [{ id: "w", module: "w" }]), SUP("v2", [{ id: "w", module: "w" }]));
    await startSupervisor(n.runtime, "a/sup", null, { name: "sup" });
    const first = (await which())[0]!.pid!;
    await failAfterCodeChange(n, async () => {
      await n.runtime.call(first, "crash").catch(() => undefined);
      await which(); // handled after the crash's exit signal: the supervisor restarted the child by now
    });
    const rows = await which();
    expect(rows[0]!.pid).not.toBe(first);
    expectSupervised(n, rows, "a/w");
    expect(n.runtime.processesUsing("a/w")).toHaveLength(1);
    await expectRestartedOnCrash(n, which, "w");
  });

  it("a child a stop step terminated after the code change is started again", async () => {
    const { n, which } = setup(SUP("v1", [{ id: "w", module: "w" }]), SUP("v2", [{ id: "w", module: "w" }, { id: "x", module: "w" }]));
    await startSupervisor(n.runtime, "a/sup", null, { name: "sup" });
    const error = await execute(upgradeSupervisor({ op: "stop", modules: ["a/w"] }), { port: n.port, target }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    const rows = await which();
    // x was started by the code change: it is stopped and its spec gone
    expect(rows.map((r) => r.id)).toEqual(["w"]);
    expect(rows[0]!.pid).not.toBeNull();
    expectSupervised(n, rows, "a/w");
    expect(n.runtime.processesUsing("a/w")).toHaveLength(1);
    await expectRestartedOnCrash(n, which, "w");
  });

  it("a child a purge detached and killed after the code change is started again", async () => {
    const { n, which } = setup(SUP("v1", []), SUP("v2", []));
    await startSupervisor(n.runtime, "a/sup", null, { name: "sup" });
    const killed = (await n.runtime.call("sup", { op: "start_child", spec: { id: "w", module: "w" } })) as string;
    const script = upgradeSupervisor({ op: "remove", module: "a/w", prePurge: "brutal_purge", postPurge: "brutal_purge" }, { op: "purge", modules: ["a/w"] });
    const error = await execute(script, { port: n.port, target }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    expect((error as InstallError).killed.map((p) => p.pid)).toEqual([killed]);
    const rows = await which();
    expect(rows.map((r) => r.id)).toEqual(["w"]);
    expect(rows[0]!.pid).not.toBeNull();
    expect(rows[0]!.pid).not.toBe(killed);
    expectSupervised(n, rows, "a/w");
    await expectRestartedOnCrash(n, which, "w");
  });

  it("the restored supervisor has its old specs: the child the code change added is gone, the old flags are back", async () => {
    const OLD = `exports.behaviour = "supervisor"; exports.init = () => ({ intensity: 1, children: [{ id: "w", module: "w" }] });`;
    const NEW = `exports.behaviour = "supervisor"; exports.init = () => ({ intensity: 7, children: [{ id: "w", module: "w", restart: "temporary" }, { id: "x", module: "w" }] });`;
    const { n, which } = setup(OLD, NEW);
    const sup = await startSupervisor(n.runtime, "a/sup", null, { name: "sup" });
    const error = await execute(upgradeSupervisor(), { port: n.port, target }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    const rows = (await n.runtime.call("sup", { op: "which_children" })) as (Row & { restart: string })[];
    expect(rows.map((r) => [r.id, r.restart])).toEqual([["w", "permanent"]]);
    expect((sup.state as { intensity: number }).intensity).toBe(1);
    expect(n.runtime.processesUsing("a/w")).toHaveLength(1);
    expectSupervised(n, await which(), "a/w");
  });
});
