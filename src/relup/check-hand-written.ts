/**
 * What a hand-written appup must do that generation does by construction: give every added, removed
 * and changed module of its application an instruction, both ways; migrate the state of a server or
 * supervisor whose declared vsn changes (an advanced update, or {update, supervisor}); and only ask for a
 * migration from a module that can do it (exports codeChange).
 */
import type { AppupInstruction } from "../appup/instruction.ts";
import type { PlanIssue } from "./issues.ts";
import type { AppDiff } from "./release-diff.ts";

export function checkHandWritten(file: string, diff: AppDiff, scripts: { up: AppupInstruction[]; down: AppupInstruction[] }): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const local = (m: string) => (m.startsWith(`${diff.name}/`) ? m.slice(diff.name.length + 1) : m);
  const required = [...diff.added, ...diff.removed, ...diff.changed.map((c) => c.to)].map((m) => m.name);
  for (const direction of ["up", "down"] as const) {
    const script = scripts[direction];
    const whole = script.some((i) => i.op === "restart_new_emulator" || (i.op === "restart_application" && i.application === diff.name));
    const covered = new Set(script.flatMap((i) => ("module" in i && i.op !== "apply" ? [local(i.module)] : [])));
    const missing = whole ? [] : required.filter((m) => !covered.has(m)).sort();
    if (missing.length > 0) issues.push({ code: "appup-missing-module", file, direction, modules: missing.map((m) => `${diff.name}/${m}`) });
    for (const i of script) {
      if (i.op !== "update" || i.change === undefined || i.change === "soft") continue;
      const meta = diff.to.modules.find((m) => m.name === local(i.module));
      // A supervisor's code_change re-reads its child specs; any other module's runs its codeChange.
      if (meta && !(i.change === "supervisor" && meta.behaviour === "supervisor") && !meta.exports.includes("codeChange")) issues.push({ code: "appup-advanced-without-code-change", file, direction, module: `${diff.name}/${meta.name}` });
    }
    for (const { from, to } of diff.changed) {
      if (whole || !(from.vsnDeclared || to.vsnDeclared) || from.vsn === to.vsn) continue;
      // An advanced update migrates; so does {update, supervisor} (OTP's way to install a supervisor's new
      // init spec: the translation gives it a code_change, which re-reads the child specs).
      const migrated = script.some((i) => i.op === "update" && local(i.module) === to.name && (typeof i.change === "object" || i.change === "supervisor"));
      if (!migrated) issues.push({ code: "appup-state-not-migrated", file, direction, module: `${diff.name}/${to.name}`, from: String(from.vsn), to: String(to.vsn) });
    }
  }
  return issues;
}
