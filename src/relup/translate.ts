/**
 * Translate appup scripts into one low-level relup script, as systools_rc does, in named phases:
 *
 *   expand                    defaults filled in, module names qualified          (expand.ts)
 *   check                     every name exists, one instruction per module       (check-references.ts)
 *   split                     at each script's point_of_no_return: only apply may run before it
 *   translate applications    add/remove/restart_application → module instructions (translate-applications.ts)
 *   place env changes         env set first, the application told last               (translate-applications.ts)
 *   order by dependency       suspend/load/code_change/resume blocks             (order-by-dependency.ts)
 *   purges last               removed modules purged in one final step           (purges-last.ts)
 *   merge load_object_code    one per application version, first                 (below)
 *   check again               the plan checker on the result                      (check-script.ts)
 *
 * Pure: returns issues instead of throwing.
 */
import { checkReferences } from "./check-references.ts";
import { checkScript } from "./check-script.ts";
import { expand, type ExpandedInstr, type Script } from "./expand.ts";
import type { Instruction } from "./instruction.ts";
import type { PlanIssue, PlanWarning } from "./issues.ts";
import { orderByDependency, type ObjectCode } from "./order-by-dependency.ts";
import { purgesLast } from "./purges-last.ts";
import type { ReleaseModel } from "./release-model.ts";
import { placeEnvChanges, translateApplications } from "./translate-applications.ts";

export interface TranslateInput {
  mode: "up" | "down";
  scripts: readonly Script[];
  /** the release running before this script */
  from: ReleaseModel;
  /** the release this script goes to */
  to: ReleaseModel;
  /** `module→dependency` → why, for the plan's explanations */
  dependencyReasons: ReadonlyMap<string, { up: string; down: string }>;
}

export interface Translated {
  instructions: Instruction[];
  reasons: string[];
  warnings: PlanWarning[];
}

export type TranslateResult = { ok: true; value: Translated } | { ok: false; issues: PlanIssue[] };

export function translate(input: TranslateInput): TranslateResult {
  const { mode, from, to } = input;
  const perScript = input.scripts.map((s) => expand([s], mode));
  const expanded = perScript.flat();
  const checked = checkReferences(expanded, from, to);
  if (checked.issues.length > 0) return { ok: false, issues: checked.issues };

  const split = splitAtPointOfNoReturn(perScript, mode);
  if (split.issues.length > 0) return { ok: false, issues: split.issues };
  if (split.restartNewEmulator) {
    // A new node boots the target release whole: nothing is loaded hot, so nothing else is planned.
    return ok([{ op: "restart_new_emulator" }, { op: "point_of_no_return" }], ["restart the node on the target release: not a hot upgrade"], checked.warnings, mode);
  }
  const before = translateApplications(split.before, from, to).flatMap((i) => (i.op === "low" ? [i.instruction] : []));
  const ordered = orderByDependency(mode, placeEnvChanges(translateApplications(split.after, from, to)), to, input.dependencyReasons, from);
  if (ordered.issues.length > 0) return { ok: false, issues: ordered.issues };
  const script: Instruction[] = [...mergeLoadObjectCode(ordered.objectCode), ...before, { op: "point_of_no_return" }, ...purgesLast(ordered.instructions)];
  return ok(script, ordered.reasons, checked.warnings, mode);
}

function ok(instructions: Instruction[], reasons: string[], warnings: PlanWarning[], mode: "up" | "down"): TranslateResult {
  const issues = checkScript(mode, instructions);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: { instructions, reasons, warnings } };
}

/**
 * Each script splits at its own point_of_no_return; the parts before are concatenated, then the parts
 * after (systools_rc merge_scripts). Only apply may come before it. restart_new_emulator is lifted out.
 */
function splitAtPointOfNoReturn(scripts: ExpandedInstr[][], section: "up" | "down") {
  const before: ExpandedInstr[] = [];
  const after: ExpandedInstr[] = [];
  const issues: PlanIssue[] = [];
  let restartNewEmulator = false;
  for (const script of scripts) {
    const at = script.findIndex((i) => i.op === "point_of_no_return");
    script.forEach((i, n) => {
      if (i.op === "restart_new_emulator") restartNewEmulator = true;
      else if (i.op === "point_of_no_return") {
        if (n !== at) issues.push({ code: "script", section, at: n, problem: { kind: "point-of-no-return-count", count: 2 } });
      } else if (at !== -1 && n < at) {
        if (i.op === "apply" || i.op === "sync_nodes") before.push(i);
        else issues.push({ code: "script", section, at: n, problem: { kind: "bad-op-before-point-of-no-return", op: i.op === "dep" ? i.kind : i.op } });
      } else after.push(i);
    });
  }
  return { before, after, issues, restartNewEmulator };
}

/** One load_object_code per application version, in order of first use (systools_rc merge_load_object_code). */
export function mergeLoadObjectCode(objectCode: readonly ObjectCode[]): Instruction[] {
  const merged = new Map<string, { application: string; version: string; modules: string[] }>();
  for (const o of objectCode) {
    const key = `${o.application}@${o.version}`;
    const entry = merged.get(key) ?? { application: o.application, version: o.version, modules: [] };
    if (!entry.modules.includes(o.module)) entry.modules.push(o.module);
    merged.set(key, entry);
  }
  return [...merged.values()].map((m) => ({ op: "load_object_code", ...m }));
}
