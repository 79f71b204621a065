/**
 * The meaning check: what a plan's scripts do, against the difference between its two releases. The
 * identity stamps bind a plan to its releases; this binds its contents to what they need. It runs on
 * both sections, whichever is run (the one not run now is the way back). Pure; issues are data.
 *
 * For a section going from release `before` to release `after` (up: from → to; down: to → from):
 *   - every module whose code differs (changed, or new in `after`), or that reaches an npm package that
 *     differs (package-changes.ts), is loaded, and every module that leaves is removed: the section ends
 *     with the code of `after`, requiring the packages of `after`
 *   - every server or supervisor whose declared state vsn differs gets a code_change of the section's
 *     mode, unless its processes do not live through the change: its application is stopped before its
 *     (last) load and started after it, or its processes are (`stop` before the load, `start` after)
 *   - code_change runs in the section's mode (up in up, down in down), and in the suspension that loads
 *     its module: up after the load (the new code migrates the old state); down before it (the newer
 *     code migrates down) or after it (modType static: a supervisor re-reads the older child specs)
 *   - a module that stays and is stopped is started again later in the section
 *   - what ends processes or drops code follows from the difference: `stop` of a module that leaves or
 *     changes; `remove` of a module that leaves or is loaded again later in the section (an application
 *     restarted); `purge` of a module loaded or removed before it; `apply application.stop`/`unload` of an
 *     application that leaves, or is started (loaded) again later in the section
 * A section that restarts the node (restart_new_emulator) boots `after` whole: nothing above applies. A
 * section that does not must not need a restart: no change of the Node range, of an npm package with a
 * native addon, or of a package listed under npm.restart (package-changes.ts).
 * Every plan `relup generate` makes passes (its tests run this over every generated plan).
 */
import { assertNever } from "../errors.ts";
import type { AppFile, ModuleMeta } from "../release/app-file.ts";
import type { ReleaseFile } from "../release/release-file.ts";
import { diffPackages } from "./package-changes.ts";
import { describeStep } from "./describe-step.ts";
import type { Instruction } from "./instruction.ts";
import type { MeaningProblem, PlanIssue } from "./issues.ts";

/** The part of a release the check reads: its manifest (npm packages) and its applications' metadata. */
export interface ReleaseApps {
  release: ReleaseFile;
  apps: AppFile[];
}

export function checkPlanMeaning(plan: { up: readonly Instruction[]; down: readonly Instruction[] }, from: ReleaseApps, to: ReleaseApps): PlanIssue[] {
  return [...checkSection("up", plan.up, from, to), ...checkSection("down", plan.down, to, from)];
}

interface Entry {
  app: AppFile;
  module: ModuleMeta;
}

function index(release: ReleaseApps): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const app of release.apps) for (const module of app.modules) out.set(`${app.name}/${module.name}`, { app, module });
  return out;
}

const isController = (i: Instruction, ...fns: string[]): i is Extract<Instruction, { op: "apply" }> =>
  i.op === "apply" && i.module === "application" && fns.includes(i.function);
const appOf = (ref: string) => ref.slice(0, ref.indexOf("/"));

function checkSection(section: "up" | "down", script: readonly Instruction[], before: ReleaseApps, after: ReleaseApps): PlanIssue[] {
  if (script.some((i) => i.op === "restart_new_emulator")) return [];
  const issues: Extract<PlanIssue, { code: "plan-meaning" }>[] = [];
  const problem = (at: number, problem: MeaningProblem) => {
    const step = script[at];
    issues.push({ code: "plan-meaning", section, at, ...(step ? { op: step.op, step: describeStep(step) } : {}), problem });
  };
  const was = index(before);
  const will = index(after);
  const staying = new Set(after.apps.map((a) => a.name));
  const packages = diffPackages(before, after);
  // What no hot plan can do: a package that cannot be reloaded in place, or another Node range.
  const mustRestart = [...packages.restart, ...(before.release.node !== after.release.node ? [`the Node range changes ${before.release.node} → ${after.release.node}`] : [])];
  if (mustRestart.length > 0) problem(0, { kind: "restart-required", reasons: mustRestart });
  // A module reloaded for a package it reaches counts as changed code: it must be loaded, and may be stopped.
  const packageReloads = packages.reloads;
  const codeChanges = (ref: string) => !was.has(ref) || !will.has(ref) || was.get(ref)!.module.sha256 !== will.get(ref)!.module.sha256 || packageReloads.has(ref);
  /** the last of load/remove each module got so far */
  const last = new Map<string, "load" | "remove">();
  const migrated = new Set<string>();
  /** modules whose processes are stopped (by `stop`, not started since), and applications stopped */
  const stoppedModules = new Set<string>();
  const stoppedApps = new Set<string>();
  /** modules whose processes did not live through their last load: stopped then, and started after */
  const restarted = new Set<string>();
  /** each suspended module's suspension (the index of its suspend), and the suspension each last load ran in */
  const suspension = new Map<string, number>();
  const loadedIn = new Map<string, number | undefined>();

  script.forEach((i, n) => {
    switch (i.op) {
      case "load":
        last.set(i.module, "load");
        loadedIn.set(i.module, suspension.get(i.module));
        if (stoppedApps.has(appOf(i.module)) || stoppedModules.has(i.module)) restarted.add(i.module);
        else restarted.delete(i.module);
        break;
      case "remove":
        if (!was.has(i.module)) problem(n, { kind: "unknown-module", module: i.module });
        else if (will.has(i.module) && !script.slice(n + 1).some((j) => j.op === "load" && j.module === i.module)) problem(n, { kind: "remove-staying", module: i.module });
        last.set(i.module, "remove");
        break;
      case "purge":
        for (const m of i.modules) if (!last.has(m)) problem(n, { kind: "purge-untouched", module: m });
        break;
      case "stop":
        for (const m of i.modules) {
          if (!was.has(m)) problem(n, { kind: "unknown-module", module: m });
          else if (!codeChanges(m)) problem(n, { kind: "stop-unchanged", module: m });
          else if (will.has(m) && !script.slice(n + 1).some((j) => j.op === "start" && j.modules.includes(m))) problem(n, { kind: "stopped-not-started", module: m });
          stoppedModules.add(m);
        }
        break;
      case "start":
        for (const m of i.modules) stoppedModules.delete(m);
        break;
      case "suspend":
        for (const m of i.modules) suspension.set(m, n);
        break;
      case "resume":
        for (const m of i.modules) suspension.delete(m);
        break;
      case "code_change":
        if (i.mode !== section) problem(n, { kind: "code-change-mode", mode: i.mode });
        for (const { module: m } of i.modules) {
          migrated.add(m);
          // Not suspended at all is the plan checker's to report (code-change-not-suspended).
          if (!suspension.has(m) || inLoadSuspension(m, n)) continue;
          problem(n, { kind: "code-change-order", module: m, mode: section });
        }
        break;
      case "apply": {
        if (isController(i, "start")) stoppedApps.delete(String(i.args[0]));
        if (!isController(i, "stop", "unload")) break;
        const app = String(i.args[0]);
        // What brings it back: a stopped application is started again; an unloaded one loaded or started.
        const back = i.function === "stop" ? ["start"] : ["load", "start"];
        const again = script.slice(n + 1).some((j) => isController(j, ...back) && String(j.args[0]) === app);
        if (staying.has(app) && !again) problem(n, { kind: "application-ended", application: app, function: i.function });
        if (i.function === "stop") stoppedApps.add(app);
        break;
      }
      case "restart_new_emulator":
      case "load_object_code":
      case "point_of_no_return":
      case "sync_nodes":
        break;
      default:
        assertNever(i);
    }
  });

  /**
   * Is the code_change of `m` at step `n` in the suspension that loads `m`? Up: the load came before it,
   * in this suspension. Down: that, or the load comes after it, before `m` is resumed.
   */
  function inLoadSuspension(m: string, n: number): boolean {
    const current = suspension.get(m);
    if (loadedIn.has(m) && loadedIn.get(m) === current) return true;
    if (section === "up") return false;
    for (const j of script.slice(n + 1)) {
      if (j.op === "load" && j.module === m) return true;
      if ((j.op === "resume" || j.op === "suspend") && j.modules.includes(m)) return false;
    }
    return false;
  }

  const end = script.length;
  const lastStep = (ref: string, op: "load" | "remove") => script.findLastIndex((i) => i.op === op && i.module === ref);
  for (const [ref, now] of will) {
    const old = was.get(ref);
    // A module of B whose last step is a remove was reported at that remove (remove-staying).
    if (codeChanges(ref) && last.get(ref) === undefined) problem(end, { kind: "not-loaded", module: ref, added: !old, ...(packageReloads.has(ref) ? { packages: packageReloads.get(ref)! } : {}) });
    if (!old) continue;
    // Which code decides whether processes run a state: the newer (as generation decides it both ways).
    const newer = section === "up" ? now.module : old.module;
    const vsnChanged = (old.module.vsnDeclared || now.module.vsnDeclared) && old.module.vsn !== now.module.vsn;
    const processModule = newer.behaviour === "server" || newer.behaviour === "supervisor";
    // Processes stopped around the load start afresh on the new code: there is no state to migrate.
    if (vsnChanged && processModule && !migrated.has(ref) && !restarted.has(ref)) {
      const load = lastStep(ref, "load");
      problem(load === -1 ? end : load, { kind: "state-not-migrated", module: ref, from: String(old.module.vsn), to: String(now.module.vsn), mode: section });
    }
  }
  for (const ref of was.keys()) {
    if (!will.has(ref) && last.get(ref) !== "remove") problem(last.get(ref) === "load" ? lastStep(ref, "load") : end, { kind: "not-removed", module: ref });
  }
  return issues.sort((a, b) => a.at - b.at);
}
