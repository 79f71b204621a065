/**
 * Timeouts written on appup `update`s reach the plan per module: a suspend timeout applies to that
 * module's processes only (a block does not take its largest), and a code change timeout rides on the
 * module's `code_change` entry.
 */
import { describe, expect, it } from "vitest";
import type { AppupFile, AppupInstruction } from "../appup/instruction.ts";
import { model, type AppSpec } from "../../test/helpers/model.ts";
import { generatePlan } from "./generate-plan.ts";
import type { Instruction } from "./instruction.ts";

const server = (name: string, vsn: number, imports: string[] = []) => ({ name, behaviour: "server" as const, vsn, code: `v${vsn}`, imports, exports: vsn > 1 ? ["codeChange"] : [] });
const v1: AppSpec[] = [{ name: "cache", version: "1.0.0", modules: [server("front", 1, ["cache/store"]), server("store", 1, ["cache/disk"]), server("disk", 1)] }];
const v2: AppSpec[] = [{ name: "cache", version: "1.1.0", modules: [server("front", 2, ["cache/store"]), server("store", 2, ["cache/disk"]), server("disk", 2)] }];

function planWith(up: AppupInstruction[]) {
  const appup: AppupFile = { format: 1, application: "cache", version: "1.1.0", up: [{ from: "1.0.0", instructions: up }], down: [{ to: "1.0.0", instructions: up }] };
  const result = generatePlan(model({ version: "1.0.0", apps: v1 }), model({ version: "2.0.0", apps: v2, appups: [appup] }));
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value.file;
}

const ops = (script: readonly Instruction[], op: Instruction["op"]) => script.filter((i) => i.op === op);

describe("per-module timeouts of update", () => {
  const update = (module: string, extra: Partial<Extract<AppupInstruction, { op: "update" }>> = {}): AppupInstruction => ({ op: "update", module, change: { advanced: {} }, ...extra });

  it("each module of a block is suspended with its own timeout, in dependency order; one resume closes the block", () => {
    const file = planWith([update("front", { timeout: 200, dependsOn: ["store"] }), update("store", { dependsOn: ["disk"] }), update("disk", { timeout: 30_000 })]);
    for (const section of [file.up, file.down]) {
      expect(ops(section, "suspend")).toEqual([
        { op: "suspend", modules: ["cache/front"], timeout: 200 },
        { op: "suspend", modules: ["cache/store"] },
        { op: "suspend", modules: ["cache/disk"], timeout: 30_000 },
      ]);
      expect(ops(section, "resume")).toEqual([{ op: "resume", modules: ["cache/disk", "cache/store", "cache/front"] }]);
    }
  });

  it("neighbours with the same timeout share one suspend", () => {
    const file = planWith([update("front", { timeout: 200, dependsOn: ["store"] }), update("store", { timeout: 200, dependsOn: ["disk"] }), update("disk")]);
    expect(ops(file.up, "suspend")).toEqual([
      { op: "suspend", modules: ["cache/front", "cache/store"], timeout: 200 },
      { op: "suspend", modules: ["cache/disk"] },
    ]);
  });

  it("codeChangeTimeout is carried into the module's code_change entry, up and down; absent, the entry has none", () => {
    const file = planWith([update("front", { codeChangeTimeout: 60_000, dependsOn: ["store"] }), update("store", { codeChangeTimeout: "infinity" }), update("disk")]);
    const expected = { modules: [{ module: "cache/front", extra: {}, timeout: 60_000 }, { module: "cache/store", extra: {}, timeout: "infinity" }] };
    expect(ops(file.up, "code_change")).toEqual([{ op: "code_change", mode: "up", ...expected }, { op: "code_change", mode: "up", modules: [{ module: "cache/disk", extra: {} }] }]);
    expect(ops(file.down, "code_change")).toEqual([{ op: "code_change", mode: "down", ...expected }, { op: "code_change", mode: "down", modules: [{ module: "cache/disk", extra: {} }] }]);
  });
});
