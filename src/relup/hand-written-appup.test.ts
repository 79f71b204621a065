/** A hand-written appup.json replaces generation for its application, and is checked the same way. */
import { describe, expect, it } from "vitest";
import { AppupInstruction as AppupInstructionSchema, type AppupFile, type AppupInstruction } from "../appup/instruction.ts";
import { model, type AppSpec } from "../../test/helpers/model.ts";
import { checkPlanMeaning } from "./check-plan-meaning.ts";
import { generatePlan } from "./generate-plan.ts";
import type { Instruction } from "./instruction.ts";
import { formatPlanIssue } from "./issues.ts";

const v1: AppSpec[] = [{ name: "cache", version: "1.0.0", modules: [{ name: "cache", behaviour: "server", vsn: 1 }, { name: "index" }, { name: "web", imports: ["cache/index"] }] }];
const v2: AppSpec[] = [{ name: "cache", version: "1.1.0", modules: [{ name: "cache", behaviour: "server", vsn: 2, code: "v2", exports: ["codeChange"] }, { name: "index" }, { name: "web", imports: ["cache/index"] }] }];
const migrate: AppupInstruction = { op: "update", module: "cache", change: { advanced: {} } };

/** An appup whose up and down hold `up` (reversed for down), after the update every one needs for `cache`. */
function withAppup(up: AppupInstruction[], overrides: Partial<AppupFile> = {}, spec = v2) {
  // restart_application replaces every module of the application: it needs no update of its own.
  const all = up.some((i) => ("module" in i && i.module === "cache") || i.op === "restart_application") ? up : [migrate, ...up];
  const appup: AppupFile = { format: 1, application: "cache", version: "1.1.0", up: [{ from: "1.0.0", instructions: all }], down: [{ to: "1.0.0", instructions: [...all].reverse() }], ...overrides };
  const [from, to] = [model({ version: "1.0.0", apps: v1 }), model({ version: "2.0.0", apps: spec, appups: [appup] })];
  const result = generatePlan(from, to);
  // A plan made from a hand-written appup passes the node's meaning check, as every generated plan does.
  if (result.ok) expect(checkPlanMeaning(result.value.file, from, to).map(formatPlanIssue)).toEqual([]);
  return result;
}

describe("hand-written appup.json", () => {
  it("replaces the generated appup: its instructions, extra and timeout are what the plan runs", () => {
    const result = withAppup([{ op: "update", module: "cache", change: { advanced: { reason: "rebuild index" } }, timeout: 5000 }]);
    expect(result.ok && result.value.file.up).toEqual([
      { op: "load_object_code", application: "cache", version: "1.1.0", modules: ["cache"] },
      { op: "point_of_no_return" },
      { op: "suspend", modules: ["cache/cache"], timeout: 5000 },
      { op: "load", module: "cache/cache", prePurge: "brutal_purge", postPurge: "brutal_purge" },
      { op: "code_change", mode: "up", modules: [{ module: "cache/cache", extra: { reason: "rebuild index" } }] },
      { op: "resume", modules: ["cache/cache"] },
    ]);
    expect(result.ok && result.value.appups[0]!.source).toBe("lib/cache-1.1.0/appup.json");
  });

  it("delete_module may ask for a soft purge: the remove carries it, so a process still running the module refuses the install", () => {
    const gone = v2.map((a) => ({ ...a, modules: a.modules.filter((m) => m.name !== "index"), })).map((a) => ({ ...a, modules: a.modules.map((m) => (m.name === "web" ? { ...m, imports: [], code: "v2" } : m)) }));
    const result = withAppup([migrate, { op: "load_module", module: "web" }, { op: "delete_module", module: "index", postPurge: "soft_purge", dependsOn: ["web"] }], { down: [{ to: "1.0.0", instructions: [migrate, { op: "add_module", module: "index" }, { op: "load_module", module: "web" }] }] }, gone);
    expect(result.ok && result.value.file.up.filter((i) => i.op === "remove" || i.op === "purge")).toEqual([
      { op: "remove", module: "cache/index", prePurge: "brutal_purge", postPurge: "soft_purge" },
      { op: "purge", modules: ["cache/index"] },
    ]);
  });

  it("an apply written before point_of_no_return runs before any code changes", () => {
    const up: AppupInstruction[] = [{ op: "apply", module: "cache", function: "preflight", args: [] }, { op: "point_of_no_return" }, migrate];
    const result = withAppup(up, { down: [{ to: "1.0.0", instructions: up }] });
    expect(result.ok && result.value.file.up.map((i) => i.op)).toEqual(["load_object_code", "apply", "point_of_no_return", "suspend", "load", "code_change", "resume"]);
  });

  it("sync_nodes stays where the author put it: between the blocks around it, or before point_of_no_return", () => {
    const warm: AppupInstruction = { op: "sync_nodes", id: "cache-migrated", timeoutMs: 30_000 };
    const after = withAppup([migrate, warm, { op: "load_module", module: "web" }], { down: [{ to: "1.0.0", instructions: [{ op: "load_module", module: "web" }, warm, migrate] }] });
    expect(after.ok && after.value.file.up.map((i) => (i.op === "sync_nodes" ? i : i.op))).toEqual(["load_object_code", "point_of_no_return", "suspend", "load", "code_change", "resume", { op: "sync_nodes", id: "cache-migrated", timeoutMs: 30_000 }, "load"]);
    expect(after.ok && after.value.file.down.map((i) => i.op)).toEqual(["load_object_code", "point_of_no_return", "load", "sync_nodes", "suspend", "code_change", "load", "resume"]);
    const prepared = withAppup([{ op: "sync_nodes", id: "prepared", timeoutMs: 10_000 }, { op: "point_of_no_return" }, migrate], { down: [{ to: "1.0.0", instructions: [migrate] }] });
    expect(prepared.ok && prepared.value.file.up.map((i) => i.op)).toEqual(["load_object_code", "sync_nodes", "point_of_no_return", "suspend", "load", "code_change", "resume"]);
  });

  it("two sync_nodes with one id in a section are refused: a fleet tells its barrier points apart by id", () => {
    const warm: AppupInstruction = { op: "sync_nodes", id: "warm", timeoutMs: 1_000 };
    const result = withAppup([warm, migrate, warm], { down: [{ to: "1.0.0", instructions: [migrate] }] });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map(formatPlanIssue).join("\n")).toContain("sync_nodes `warm` appears more than once in the section: a fleet tells its barrier points apart by id. Fix: give each sync_nodes its own id.");
  });

  it("a sync_nodes id is a plain name, and not point_of_no_return (the hold's own point)", () => {
    const parse = (id: string) => AppupInstructionSchema.safeParse({ op: "sync_nodes", id, timeoutMs: 1_000 });
    expect(parse("caches-warm.v2").success).toBe(true);
    expect(parse("point_of_no_return").error?.issues[0]?.message).toMatch(/not point_of_no_return, the hold's own point/);
    expect(parse("two words").success).toBe(false);
    expect(AppupInstructionSchema.safeParse({ op: "sync_nodes", id: "warm", timeoutMs: 2 ** 31 }).success).toBe(false);
  });

  it("restart_application starts the application again with no start type: the runtime keeps the type it ran with", () => {
    const result = withAppup([{ op: "restart_application", application: "cache" }]);
    const starts = result.ok ? result.value.file.up.filter((i) => i.op === "apply" && i.function === "start") : [];
    expect(starts).toEqual([{ op: "apply", module: "application", function: "start", args: ["cache"] }]);
  });

  it("refuses restart_application beside an instruction for one of its modules: the restart would leave that module removed", () => {
    const result = withAppup([migrate, { op: "restart_application", application: "cache" }]);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map(formatPlanIssue)).toContainEqual(expect.stringMatching(/up\.instructions\[0\]\.module: `cache\/cache` has an instruction of its own, but restart_application of `cache`/));
  });

  it("refuses an appup whose plan the node would refuse: an apply application.stop of an application that stays and is not started again", () => {
    const result = withAppup([{ op: "apply", module: "application", function: "stop", args: ["cache"] }]);
    expect(!result.ok && result.issues.map(formatPlanIssue)).toEqual([
      expect.stringMatching(/^up step \d+ \(apply application\.stop\): stop of application `cache`, but `cache` stays in the release and is not started again/),
      expect.stringMatching(/^down step \d+ \(apply application\.stop\): stop of application `cache`/),
    ]);
    // Generation refuses it: the fix names the appup.json that asked for it, not the plan relup generate makes.
    for (const text of !result.ok ? result.issues.map(formatPlanIssue) : []) {
      expect(text).toContain("Fix: change lib/cache-1.1.0/appup.json, whose instructions make this plan");
      expect(text).not.toContain("relup generate` makes");
    }
  });

  it("a version range in `from` matches the running version", () => {
    const result = withAppup([], { up: [{ from: "2.x", instructions: [] }, { from: ">=1.0.0 <1.1.0", instructions: [migrate] }] });
    expect(result.ok && result.value.file.up.map((i) => i.op)).toEqual(["load_object_code", "point_of_no_return", "suspend", "load", "code_change", "resume"]);
  });

  it("refuses an unknown module, in the up and the down section", () => {
    expect(withAppup([{ op: "load_module", module: "ghost" }])).toEqual({
      ok: false,
      issues: [
        { code: "unknown-module", file: "lib/cache-1.1.0/appup.json", field: "up.instructions[1].module", module: "cache/ghost", release: "rel 2.0.0" },
        { code: "unknown-module", file: "lib/cache-1.1.0/appup.json", field: "down.instructions[0].module", module: "cache/ghost", release: "rel 1.0.0" },
      ],
    });
  });

  it("refuses an instruction other than apply before point_of_no_return", () => {
    const result = withAppup([{ op: "load_module", module: "index" }, { op: "point_of_no_return" }, migrate]);
    expect(result.ok ? [] : result.issues).toContainEqual({ code: "script", section: "up", at: 0, problem: { kind: "bad-op-before-point-of-no-return", op: "load_module" } });
  });

  it("refuses an unknown application", () => {
    const result = withAppup([{ op: "add_application", application: "nope" }]);
    expect(result.ok ? [] : result.issues.map((i) => i.code)).toEqual(["unknown-application", "unknown-application"]);
  });

  it("refuses an appup with no entry for the running version", () => {
    const result = withAppup([], { up: [{ from: "0.9.0", instructions: [migrate] }] });
    expect(result).toEqual({ ok: false, issues: [{ code: "appup-no-path", file: "lib/cache-1.1.0/appup.json", direction: "up", version: "1.0.0" }] });
  });

  it("refuses a version spec that is neither a version nor a range", () => {
    const result = withAppup([], { up: [{ from: "one-point-oh", instructions: [migrate] }] });
    expect(result.ok ? [] : result.issues).toEqual([{ code: "appup-bad-version-spec", file: "lib/cache-1.1.0/appup.json", field: "up[0].from", spec: "one-point-oh" }]);
  });

  it("refuses an appup written for another version of the application", () => {
    expect(withAppup([], { version: "1.0.5" })).toMatchObject({ ok: false, issues: [{ code: "appup-version-mismatch", expected: "1.1.0", found: "1.0.5" }] });
  });

  it("refuses a cycle in dependsOn", () => {
    const result = withAppup([
      { op: "load_module", module: "index", dependsOn: ["web"] },
      { op: "load_module", module: "web", dependsOn: ["index"] },
    ]);
    expect(result.ok ? [] : result.issues).toEqual([{ code: "dependency-cycle", cycle: ["cache/index", "cache/web", "cache/index"] }]);
  });

  it("refuses deleting a module that the new release still imports", () => {
    const result = withAppup([{ op: "delete_module", module: "index" }]);
    expect(result.ok ? [] : result.issues.map((i) => i.code)).toContain("removed-module-imported");
  });

  it("refuses two instructions for one module", () => {
    const result = withAppup([{ op: "load_module", module: "index" }, { op: "update", module: "index" }]);
    expect(result.ok ? [] : result.issues.map((i) => i.code)).toContain("duplicate-module-instruction");
  });

  it("refuses an appup that leaves out a module changing in this version", () => {
    const changed: AppSpec[] = [{ ...v2[0]!, modules: v2[0]!.modules.map((m) => (m.name === "web" ? { ...m, code: "v2" } : m)) }];
    const result = withAppup([], {}, changed);
    expect(result.ok ? [] : result.issues).toEqual([
      { code: "appup-missing-module", file: "lib/cache-1.1.0/appup.json", direction: "up", modules: ["cache/web"] },
      { code: "appup-missing-module", file: "lib/cache-1.1.0/appup.json", direction: "down", modules: ["cache/web"] },
    ]);
  });

  it("refuses a server whose state version changes without an advanced update", () => {
    const result = withAppup([{ op: "update", module: "cache", change: "soft" }]);
    expect(result.ok ? [] : result.issues.map((i) => i.code)).toEqual(["appup-state-not-migrated", "appup-state-not-migrated"]);
  });

  it("accepts {update, supervisor} for a supervisor whose declared vsn changes: OTP installs a new init spec this way, and the plan migrates it", () => {
    const sup = (vsn: number, code?: string): AppSpec[] => [{ name: "cache", version: vsn === 1 ? "1.0.0" : "1.1.0", modules: [{ name: "sup", behaviour: "supervisor", vsn, ...(code ? { code } : {}) }] }];
    const update: AppupInstruction = { op: "update", module: "sup", change: "supervisor" };
    const appup: AppupFile = { format: 1, application: "cache", version: "1.1.0", up: [{ from: "1.0.0", instructions: [update] }], down: [{ to: "1.0.0", instructions: [update] }] };
    const [from, to] = [model({ version: "1.0.0", apps: sup(1) }), model({ version: "2.0.0", apps: sup(2, "v2"), appups: [appup] })];
    const result = generatePlan(from, to);
    expect(result.ok ? [] : result.issues.map(formatPlanIssue)).toEqual([]);
    const changes = (s: Instruction[]) => s.filter((i) => i.op === "code_change" || i.op === "load").map((i) => (i.op === "load" ? "load" : `code_change ${i.mode}`));
    // A supervisor re-reads its child specs from the loaded code: after the load, both ways.
    expect(result.ok && { up: changes(result.value.file.up), down: changes(result.value.file.down) }).toEqual({ up: ["load", "code_change up"], down: ["load", "code_change down"] });
    if (result.ok) expect(checkPlanMeaning(result.value.file, from, to).map(formatPlanIssue)).toEqual([]);
  });

  it("every module instruction an appup can write makes a plan the node accepts: update advanced (modType static too), soft, load_module, add_module, delete_module", () => {
    const apps = (version: string, modules: AppSpec["modules"]): AppSpec[] => [{ name: "cache", version, modules }];
    const v1m: AppSpec["modules"] = [{ name: "cache", behaviour: "server", vsn: 1 }, { name: "keeper", behaviour: "server", vsn: 1 }, { name: "plain", behaviour: "server" }, { name: "index" }, { name: "gone", behaviour: "server" }];
    const v2m: AppSpec["modules"] = [
      { name: "cache", behaviour: "server", vsn: 2, code: "v2", exports: ["codeChange"] },
      { name: "keeper", behaviour: "server", vsn: 2, code: "v2", exports: ["codeChange"] },
      { name: "plain", behaviour: "server", code: "v2" },
      { name: "index", code: "v2" },
      { name: "fresh" },
    ];
    const common: AppupInstruction[] = [migrate, { op: "update", module: "keeper", change: { advanced: [] }, modType: "static" }, { op: "update", module: "plain", change: "soft" }, { op: "load_module", module: "index" }];
    const appup: AppupFile = {
      format: 1,
      application: "cache",
      version: "1.1.0",
      up: [{ from: "1.0.0", instructions: [...common, { op: "add_module", module: "fresh" }, { op: "delete_module", module: "gone" }] }],
      down: [{ to: "1.0.0", instructions: [...common, { op: "add_module", module: "gone" }, { op: "delete_module", module: "fresh" }] }],
    };
    const [from, to] = [model({ version: "1.0.0", apps: apps("1.0.0", v1m) }), model({ version: "2.0.0", apps: apps("1.1.0", v2m), appups: [appup] })];
    const result = generatePlan(from, to);
    expect(result.ok ? [] : result.issues.map(formatPlanIssue)).toEqual([]);
    if (result.ok) expect(checkPlanMeaning(result.value.file, from, to).map(formatPlanIssue)).toEqual([]);
  });

  it("refuses an advanced update of a module that does not export codeChange", () => {
    const result = withAppup([{ op: "update", module: "web", change: { advanced: {} } }]);
    expect(result.ok ? [] : result.issues.map((i) => i.code)).toEqual(["appup-advanced-without-code-change", "appup-advanced-without-code-change"]);
    // {update, supervisor} of a module that is no supervisor runs its codeChange as well.
    expect(withAppup([{ op: "update", module: "web", change: "supervisor" }]).ok).toBe(false);
  });
});
