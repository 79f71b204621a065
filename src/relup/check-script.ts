/**
 * The plan checker: structural rules of a low-level script. It runs on every translated relup before it
 * is written, on relups read from disk, and in the executor before step one (STYLE rule 5).
 *   - exactly one point_of_no_return; before it only load_object_code and apply (and restart_new_emulator)
 *   - restart_new_emulator, when present, is the first instruction
 *   - every load is preceded by a load_object_code of its module; one version per application
 *   - every suspended module is resumed, and only suspended modules are resumed or code-changed
 *   - every stopped module is started again (unless it is removed and not loaded again), and only stopped
 *     modules are started
 */
import { assertNever } from "../errors.ts";
import type { Instruction } from "./instruction.ts";
import type { PlanIssue, ScriptProblem } from "./issues.ts";

export function checkScript(section: "up" | "down", script: readonly Instruction[]): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const problem = (at: number, p: ScriptProblem) => issues.push({ code: "script", section, at, problem: p });
  const ponr = script.flatMap((i, n) => (i.op === "point_of_no_return" ? [n] : []));
  if (ponr.length !== 1) problem(ponr[1] ?? script.length, { kind: "point-of-no-return-count", count: ponr.length });
  const split = ponr[0] ?? script.length;

  const objectCode = new Set<string>();
  const versions = new Map<string, string>();
  const suspended = new Set<string>();
  const stopped = new Set<string>();
  /** the sync_nodes ids seen: each names one barrier point */
  const barriers = new Set<string>();
  script.forEach((i, n) => {
    if (n < split && !["load_object_code", "apply", "restart_new_emulator", "sync_nodes"].includes(i.op)) {
      problem(n, { kind: "bad-op-before-point-of-no-return", op: i.op });
    }
    if (n > split && i.op === "load_object_code") problem(n, { kind: "object-code-after-point-of-no-return" });
    switch (i.op) {
      case "restart_new_emulator":
        if (n !== 0) problem(n, { kind: "restart-new-emulator-not-first" });
        break;
      case "load_object_code": {
        const seen = versions.get(i.application);
        if (seen !== undefined && seen !== i.version) problem(n, { kind: "conflicting-object-code", application: i.application, versions: [seen, i.version] });
        versions.set(i.application, i.version);
        for (const m of i.modules) objectCode.add(`${i.application}/${m}`);
        break;
      }
      case "load":
        if (!objectCode.has(i.module)) problem(n, { kind: "no-object-code", module: i.module });
        break;
      case "suspend":
        for (const m of i.modules) suspended.add(m);
        break;
      case "resume": {
        const not = i.modules.filter((m) => !suspended.has(m));
        if (not.length > 0) problem(n, { kind: "resumed-not-suspended", modules: not });
        for (const m of i.modules) suspended.delete(m);
        break;
      }
      case "code_change": {
        const not = i.modules.map((m) => m.module).filter((m) => !suspended.has(m));
        if (not.length > 0) problem(n, { kind: "code-change-not-suspended", modules: not });
        break;
      }
      case "stop":
        for (const m of i.modules) stopped.add(m);
        break;
      case "start": {
        const not = i.modules.filter((m) => !stopped.has(m));
        if (not.length > 0) problem(n, { kind: "started-not-stopped", modules: not });
        for (const m of i.modules) stopped.delete(m);
        break;
      }
      case "remove":
        // A stopped module that leaves the release is not started again; one loaded again after its
        // remove (a module replaced) stays, and its processes must be started again.
        if (!script.slice(n + 1).some((j) => j.op === "load" && j.module === i.module)) stopped.delete(i.module);
        break;
      case "sync_nodes":
        if (barriers.has(i.id)) problem(n, { kind: "duplicate-barrier", id: i.id });
        barriers.add(i.id);
        break;
      case "point_of_no_return":
      case "purge":
      case "apply":
        break;
      default:
        assertNever(i);
    }
  });
  if (suspended.size > 0) problem(script.length, { kind: "suspended-not-resumed", modules: [...suspended] });
  if (stopped.size > 0) problem(script.length, { kind: "stopped-not-started", modules: [...stopped] });
  return issues;
}
