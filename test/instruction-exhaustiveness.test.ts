/**
 * No instruction is ever skipped in silence. Every member of both instruction unions is walked through
 * every layer that handles it, and each layer either translates it (the output changes because of it)
 * or refuses it with an error; an op outside the unions (a hand-written `{op: "restart_emulator"}`, an
 * OTP op relup does not have) is refused wherever it could slip in. The sample tables are typed by the
 * unions, so a new op that has no sample does not compile, and the lists are compared with the zod
 * schemas at run time too.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppupFile, AppupInstruction } from "../src/appup/instruction.ts";
import { invert } from "../src/appup/invert.ts";
import { BugError } from "../src/errors.ts";
import { buildRelease } from "../src/release/build-release.ts";
import { readRelease } from "../src/release/read-release.ts";
import { checkScript } from "../src/relup/check-script.ts";
import { Instruction } from "../src/relup/instruction.ts";
import { describeAppupInstruction, describeInstruction } from "../src/relup/render/describe.ts";
import { translate } from "../src/relup/translate.ts";
import { execute, InstallError, type Progress } from "../src/runtime/executor.ts";
import { Node } from "../src/runtime/node.ts";
import { freePort } from "../src/net-helpers.ts";
import { model } from "./helpers/model.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

type AppupOp = AppupInstruction["op"];
type Op = Instruction["op"];

/** The ops a zod discriminated union accepts, read from the schema itself. */
function opsOf(union: { options: readonly { shape: { op: { value: unknown } } }[] }): string[] {
  return union.options.map((o) => String(o.shape.op.value)).sort();
}

// Release a 1.0.0 → 2.0.0: application `a` changes (m migrates state, lib reloads, old goes, fresh comes),
// `added` is new, `gone` is removed.
const from = model({
  version: "1.0.0",
  apps: [
    { name: "a", version: "1.0.0", modules: [{ name: "m", behaviour: "server", vsn: 1, exports: ["codeChange", "check"] }, { name: "lib" }, { name: "old" }] },
    { name: "gone", version: "1.0.0", modules: [{ name: "g" }] },
  ],
});
const to = model({
  version: "2.0.0",
  apps: [
    { name: "a", version: "1.1.0", modules: [{ name: "m", behaviour: "server", vsn: 2, code: "v2", exports: ["codeChange", "check"] }, { name: "lib", code: "v2" }, { name: "fresh" }] },
    { name: "added", version: "1.0.0", modules: [{ name: "x" }] },
  ],
});

const check: AppupInstruction = { op: "apply", module: "m", function: "check", args: [] };

/** For each appup op: a script that uses it; the same script without it must translate differently. */
const appupSamples: { [K in AppupOp]: { script: AppupInstruction[]; yields: Partial<Instruction> } } = {
  load_module: { script: [{ op: "load_module", module: "lib" }], yields: { op: "load", module: "a/lib" } },
  update: { script: [{ op: "update", module: "m", change: { advanced: {} } }], yields: { op: "code_change", mode: "up" } },
  add_module: { script: [{ op: "add_module", module: "fresh" }], yields: { op: "load", module: "a/fresh" } },
  delete_module: { script: [{ op: "delete_module", module: "old" }], yields: { op: "remove", module: "a/old" } },
  apply: { script: [check], yields: { op: "apply", module: "a/m", function: "check" } },
  add_application: { script: [{ op: "add_application", application: "added" }], yields: { op: "apply", module: "application", function: "start", args: ["added", "permanent"] } },
  remove_application: { script: [{ op: "remove_application", application: "gone" }], yields: { op: "apply", module: "application", function: "unload", args: ["gone"] } },
  restart_application: { script: [{ op: "restart_application", application: "a" }], yields: { op: "apply", module: "application", function: "stop", args: ["a"] } },
  restart_new_emulator: { script: [{ op: "restart_new_emulator" }], yields: { op: "restart_new_emulator" } },
  // Without it the check runs after the point of no return; with it, before (first after load_object_code).
  point_of_no_return: { script: [check, { op: "point_of_no_return" }, { op: "load_module", module: "lib" }], yields: { op: "apply", module: "a/m", function: "check" } },
  sync_nodes: { script: [{ op: "load_module", module: "lib" }, { op: "sync_nodes", id: "warm", timeoutMs: 1000 }], yields: { op: "sync_nodes", id: "warm", timeoutMs: 1000 } },
};

function translated(instructions: AppupInstruction[]) {
  return translate({ mode: "up", scripts: [{ app: "a", origin: "apps/a/appup.json", instructions }], from, to, dependencyReasons: new Map() });
}

describe("every appup instruction is translated or refused, never dropped", () => {
  it("the samples cover exactly the ops of the appup schema", () => {
    expect(Object.keys(appupSamples).sort()).toEqual(opsOf(AppupInstruction));
  });

  it.each(Object.entries(appupSamples))("%s: translated into the low-level script", (op, sample) => {
    const withIt = translated(sample.script);
    const without = translated(sample.script.filter((i) => i.op !== op));
    expect(withIt.ok, JSON.stringify(withIt)).toBe(true);
    if (!withIt.ok || !without.ok) return;
    expect(withIt.value.instructions).not.toEqual(without.value.instructions);
    expect(withIt.value.instructions).toContainEqual(expect.objectContaining(sample.yields));
    if (op === "point_of_no_return") expect(withIt.value.instructions.findIndex((i) => i.op === "apply")).toBeLessThan(withIt.value.instructions.findIndex((i) => i.op === "point_of_no_return"));
  });

  it.each(Object.entries(appupSamples))("%s: described in words, and inverted for a generated downgrade or refused", (op, sample) => {
    const instruction = sample.script.find((i) => i.op === op)!;
    expect(describeAppupInstruction(instruction)).toContain(op);
    if (op === "apply") expect(() => invert(instruction)).toThrow(BugError);
    else expect(AppupInstruction.parse(invert(instruction))).toBeTruthy();
  });

  it("an op outside the union is refused by the schema, naming the field", () => {
    const file = { format: 1, application: "a", version: "1.1.0", up: [{ from: "1.0.0", instructions: [{ op: "restart_emulator" }] }], down: [] };
    const parsed = AppupFile.safeParse(file);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["up", 0, "instructions", 0, "op"]);
  });

  it("an op outside the union that reaches the translation anyway is refused as a bug, not dropped", () => {
    const unknown = { op: "restart_emulator" } as unknown as AppupInstruction;
    expect(() => translated([unknown])).toThrow(BugError);
    expect(() => translated([check, { op: "point_of_no_return" }, unknown])).toThrow(BugError);
    expect(() => describeAppupInstruction(unknown)).toThrow(BugError);
    expect(() => invert(unknown)).toThrow(BugError);
  });
});

/** For each low-level op: a sample, as it appears in the walk script below. */
const relupSamples: { [K in Op]: Extract<Instruction, { op: K }> } = {
  restart_new_emulator: { op: "restart_new_emulator" },
  load_object_code: { op: "load_object_code", application: "calculator", version: "1.1.0", modules: ["calculator", "router"] },
  apply: { op: "apply", module: "calculator/calculator", function: "add", args: [1, 2] },
  point_of_no_return: { op: "point_of_no_return" },
  suspend: { op: "suspend", modules: ["calculator/sup"], timeout: 5000 },
  load: { op: "load", module: "calculator/router", prePurge: "brutal_purge", postPurge: "brutal_purge" },
  code_change: { op: "code_change", mode: "up", modules: [{ module: "calculator/sup", extra: null }] },
  resume: { op: "resume", modules: ["calculator/sup"] },
  stop: { op: "stop", modules: ["calculator/http_server"] },
  start: { op: "start", modules: ["calculator/http_server"] },
  remove: { op: "remove", module: "calculator/calculator", prePurge: "brutal_purge", postPurge: "brutal_purge" },
  purge: { op: "purge", modules: ["calculator/router", "calculator/calculator"] },
  sync_nodes: { op: "sync_nodes", id: "warm", timeoutMs: 1000 },
};

/** Every op but restart_new_emulator (which replaces the node, and must come first): a valid script. */
const walk: Instruction[] = [
  relupSamples.load_object_code,
  relupSamples.apply,
  relupSamples.point_of_no_return,
  relupSamples.sync_nodes,
  relupSamples.suspend,
  relupSamples.load,
  relupSamples.code_change,
  relupSamples.resume,
  relupSamples.stop,
  relupSamples.start,
  relupSamples.remove,
  relupSamples.purge,
];
const restart: Instruction[] = [relupSamples.restart_new_emulator, relupSamples.point_of_no_return];

describe("every relup instruction is executed, checked and described, or refused, never skipped", () => {
  const tempDir = useTempDirs();
  const nodes: Node[] = [];
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop();
  });

  it("the samples cover exactly the ops of the relup schema, and the two walk scripts use every one", () => {
    expect(Object.keys(relupSamples).sort()).toEqual(opsOf(Instruction));
    expect([...new Set([...walk, ...restart].map((i) => i.op))].sort()).toEqual(opsOf(Instruction));
    for (const sample of Object.values(relupSamples)) expect(Instruction.parse(sample)).toEqual(sample);
  });

  it("the plan checker accepts both walk scripts, and refuses an op outside the union as a bug", () => {
    expect(checkScript("up", walk)).toEqual([]);
    expect(checkScript("up", restart)).toEqual([]);
    expect(() => checkScript("up", [...walk, { op: "restart_emulator" } as unknown as Instruction])).toThrow(BugError);
  });

  it.each(Object.entries(relupSamples))("%s: described in words of its own", (op, sample) => {
    const text = describeInstruction(sample);
    expect(text.length).toBeGreaterThan(0);
    const others = Object.values(relupSamples).filter((i) => i.op !== op).map((i) => describeInstruction(i));
    expect(others).not.toContain(text);
  });

  it("an op outside the union is refused by the schema and by the views", () => {
    expect(Instruction.safeParse({ op: "restart_emulator" }).success).toBe(false);
    expect(() => describeInstruction({ op: "restart_emulator" } as unknown as Instruction)).toThrow(BugError);
  });

  it("the executor runs every step of the walk on a real node, refuses restart_new_emulator without a launcher, and refuses an unknown op", async () => {
    const out = await tempDir();
    const v1 = await buildRelease({ dir: "fixtures/calculator/1.0.0", out });
    const v2 = await buildRelease({ dir: "fixtures/calculator/1.1.0", out });
    const root = await tempDir();
    const dir1 = (await readRelease(v1.tarball, { into: path.join(root, "1.0.0") })).dir;
    const target = await readRelease(v2.tarball, { into: path.join(root, "1.1.0") });
    const node = new Node({ releaseDir: dir1, config: { calculator: { port: await freePort() } } });
    nodes.push(node);
    await node.boot();
    const server = node.runtime.processesUsing("calculator/http_server")[0]!;

    const steps: Progress[] = [];
    await execute(walk, { port: node.port, target: { dir: target.dir, apps: target.apps }, progress: (e) => steps.push(e) });
    expect(steps.filter((e) => e.phase === "step").map((e) => e.op)).toEqual(walk.map((i) => i.op));
    // The effects of the last steps: calculator removed and purged, router's old code purged, the server
    // stopped and started again in its place (a new process).
    expect(node.table.current("calculator/calculator")).toBeUndefined();
    expect(node.table.modules()).not.toContain("calculator/calculator");
    expect(node.table.old("calculator/router")).toBeUndefined();
    expect(node.runtime.processesUsing("calculator/http_server").map((p) => p.pid)).not.toContain(server.pid);

    const refused = await execute(restart, { port: node.port, target: { dir: target.dir, apps: target.apps } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InstallError);
    expect((refused as Error).message).toContain("restart_new_emulator needs the launcher");

    const unknown = await execute([{ op: "restart_emulator" } as unknown as Instruction], { port: node.port, target: { dir: target.dir, apps: target.apps } }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(InstallError);
    expect((unknown as InstallError).cause).toBeInstanceOf(BugError);
  });
});
