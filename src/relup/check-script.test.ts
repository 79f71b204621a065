/** The plan checker on hand-made low-level scripts: each rule, alone. */
import { describe, expect, it } from "vitest";
import { checkScript } from "./check-script.ts";
import type { Instruction } from "./instruction.ts";

const B = "brutal_purge" as const;
const ponr: Instruction = { op: "point_of_no_return" };
const loc: Instruction = { op: "load_object_code", application: "a", version: "1.1.0", modules: ["m"] };
const problems = (script: Instruction[]) => checkScript("up", script).map((i) => (i.code === "script" ? [i.at, i.problem.kind] : i.code));

describe("checkScript", () => {
  it("accepts a well-formed update block", () => {
    expect(problems([loc, ponr, { op: "suspend", modules: ["a/m"] }, { op: "load", module: "a/m", prePurge: B, postPurge: B }, { op: "code_change", mode: "up", modules: [{ module: "a/m", extra: null }] }, { op: "resume", modules: ["a/m"] }])).toEqual([]);
  });

  it("needs exactly one point_of_no_return", () => {
    expect(problems([loc])).toEqual([[1, "point-of-no-return-count"]]);
    expect(problems([ponr, ponr])).toEqual([[1, "point-of-no-return-count"]]);
  });

  it("allows only load_object_code and apply before the point of no return", () => {
    expect(problems([{ op: "suspend", modules: ["a/m"] }, ponr, { op: "resume", modules: ["a/m"] }])).toEqual([[0, "bad-op-before-point-of-no-return"]]);
  });

  it("refuses load_object_code after the point of no return", () => {
    expect(problems([ponr, loc])).toEqual([[1, "object-code-after-point-of-no-return"]]);
  });

  it("needs object code for every load", () => {
    expect(problems([ponr, { op: "load", module: "a/m", prePurge: B, postPurge: B }])).toEqual([[1, "no-object-code"]]);
  });

  it("pairs every suspend with a resume", () => {
    expect(problems([ponr, { op: "suspend", modules: ["a/m"] }])).toEqual([[2, "suspended-not-resumed"]]);
    expect(problems([ponr, { op: "resume", modules: ["a/m"] }])).toEqual([[1, "resumed-not-suspended"]]);
  });

  it("runs code_change only on suspended modules", () => {
    expect(problems([ponr, { op: "code_change", mode: "up", modules: [{ module: "a/m", extra: null }] }])).toEqual([[1, "code-change-not-suspended"]]);
  });

  it("pairs every stop with a start", () => {
    expect(problems([ponr, { op: "stop", modules: ["a/m"] }])).toEqual([[2, "stopped-not-started"]]);
    expect(problems([ponr, { op: "start", modules: ["a/m"] }])).toEqual([[1, "started-not-stopped"]]);
    // A stopped module that is removed leaves: no start. One loaded again after the remove stays, and is started.
    const remove: Instruction = { op: "remove", module: "a/m", prePurge: B, postPurge: B };
    const load: Instruction = { op: "load", module: "a/m", prePurge: B, postPurge: B };
    expect(problems([loc, ponr, { op: "stop", modules: ["a/m"] }, remove])).toEqual([]);
    expect(problems([loc, ponr, { op: "stop", modules: ["a/m"] }, remove, load])).toEqual([[5, "stopped-not-started"]]);
    expect(problems([loc, ponr, { op: "stop", modules: ["a/m"] }, remove, load, { op: "start", modules: ["a/m"] }])).toEqual([]);
  });

  it("puts restart_new_emulator first", () => {
    expect(problems([loc, { op: "restart_new_emulator" }, ponr])).toEqual([[1, "restart-new-emulator-not-first"]]);
  });

  it("reads one version of each application", () => {
    expect(problems([loc, { ...loc, version: "1.2.0" } as Instruction, ponr])).toEqual([[1, "conflicting-object-code"]]);
  });
});
