/**
 * `relup generate`: two builds of a release → a reviewed plan (a relup with its explanation). Pure.
 *
 *   check releases       same release, greater version                         (here)
 *   diff                 applications and modules                              (release-diff.ts)
 *   appups               hand-written appup.json of the new release, else generated (generate-appup.ts)
 *   packages             modules that reach a changed npm package reloaded too (package-changes.ts)
 *   state shapes         a soft update must keep a state of the same shape             (check-state-shapes.ts)
 *   scripts              one per application, in start order (see orderScripts)
 *   translate up, down   low-level scripts                                     (translate.ts)
 *   meaning              what the node will check the plan does                (check-plan-meaning.ts)
 */
import semver from "semver";
import { generateAppup, type DependencyReasons } from "../appup/generate-appup.ts";
import type { AppupInstruction } from "../appup/instruction.ts";
import { startOrder } from "../release/app-graph.ts";
import type { AppFile } from "../release/app-file.ts";
import type { Script } from "./expand.ts";
import type { RelupFile } from "./instruction.ts";
import { formatPlanWarning, type PlanIssue, type PlanWarning } from "./issues.ts";
import { diffReleases, type ReleaseDiff } from "./release-diff.ts";
import type { ReleaseModel } from "./release-model.ts";
import { checkHandWritten } from "./check-hand-written.ts";
import { checkPlanMeaning } from "./check-plan-meaning.ts";
import { checkStateShapes } from "./check-state-shapes.ts";
import { selectAppup } from "./select-appup.ts";
import { translate } from "./translate.ts";
import { describePackageChange } from "./render/describe.ts";
import { packageHints, packageObjectWarnings, packageReloads, type PackageReload } from "./package-reloads.ts";

export interface PlanAppup {
  app: string;
  from: string;
  to: string;
  /** "generated", or the appup.json it was read from */
  source: string;
  up: AppupInstruction[];
  down: AppupInstruction[];
}

export interface Plan {
  file: RelupFile;
  diff: ReleaseDiff;
  appups: PlanAppup[];
  reasons: { up: string[]; down: string[] };
  warnings: PlanWarning[];
}

export type PlanResult = { ok: true; value: Plan } | { ok: false; issues: PlanIssue[] };

export function generatePlan(from: ReleaseModel, to: ReleaseModel): PlanResult {
  const a = from.release;
  const b = to.release;
  if (a.name !== b.name) return { ok: false, issues: [{ code: "release-name-mismatch", from: a.name, to: b.name }] };
  if (!semver.gt(b.version, a.version)) return { ok: false, issues: [{ code: "version-not-greater", release: a.name, from: a.version, to: b.version }] };

  const { diff, issues } = diffReleases(from, to);
  for (const app of diff.changed) {
    for (const { from: old, to: neu } of app.changed) {
      const vsnChanged = (old.vsnDeclared || neu.vsnDeclared) && old.vsn !== neu.vsn;
      if (neu.behaviour === "server" && vsnChanged && !neu.exports.includes("codeChange")) {
        issues.push({ code: "state-change-without-code-change", module: `${app.name}/${neu.name}`, from: String(old.vsn), to: String(neu.vsn) });
      }
    }
  }
  if (issues.length > 0) return { ok: false, issues };

  const reasons: DependencyReasons = new Map();
  const changing = changingModules(diff);
  for (const ref of diff.npm.reloads.keys()) changing.add(ref);
  const importersBefore = importersOfRemoved(from, diff, changing);
  const extra = packageHints(diff);
  const appups: PlanAppup[] = [];
  for (const app of diff.changed) {
    const handWritten = to.appups.get(app.name);
    if (handWritten) {
      const selected = selectAppup(handWritten.file, handWritten.appup, app.from, app.to);
      if (!selected.ok) {
        issues.push(...selected.issues);
        continue;
      }
      issues.push(...checkHandWritten(handWritten.file, app, selected.value));
      appups.push({ app: app.name, from: app.from.version, to: app.to.version, source: handWritten.file, ...selected.value });
    } else {
      appups.push({ app: app.name, from: app.from.version, to: app.to.version, source: "generated", ...generateAppup(app, { changing, importersBefore, reasons, extra }) });
    }
  }
  if (issues.length > 0) return { ok: false, issues };

  const restart = restartReasons(diff);
  const reloads = restart.length > 0 ? [] : packageReloads(diff, appups, to, changing, reasons);
  // A restart boots the new release whole: no state is kept, so no state shape has to match.
  const shapes = restart.length > 0 ? { issues: [], warnings: [] } : checkStateShapes(diff, appups);
  if (shapes.issues.length > 0) return { ok: false, issues: shapes.issues };
  const up = translate({ mode: "up", scripts: orderScripts("up", diff, appups, reloads, from, to, restart.length > 0), from, to, dependencyReasons: reasons });
  const down = translate({ mode: "down", scripts: orderScripts("down", diff, appups, reloads, to, from, restart.length > 0), from: to, to: from, dependencyReasons: reasons });
  if (!up.ok || !down.ok) return { ok: false, issues: dedupe([...(up.ok ? [] : up.issues), ...(down.ok ? [] : down.issues)]) };

  const warnings: PlanWarning[] = [...up.value.warnings];
  if (restart.length > 0) warnings.push({ code: "restart-new-emulator", reasons: restart });
  else {
    for (const app of diff.changed) {
      for (const { to: m } of app.changed) {
        if (m.mutableState.length > 0) warnings.push({ code: "module-state", module: `${app.name}/${m.name}`, bindings: m.mutableState });
      }
    }
    for (const r of reloads) {
      if (r.meta.mutableState.length > 0) warnings.push({ code: "module-state", module: r.ref, bindings: r.meta.mutableState });
    }
    warnings.push(...packageObjectWarnings(diff, to));
    warnings.push(...shapes.warnings);
  }
  // The node refuses a plan that does not do what the two releases need (check-plan-meaning.ts). A
  // generated appup always does; a hand-written one could ask for more (stop an application that stays,
  // delete a module of another application), and is refused here rather than on the node.
  const meaning = checkPlanMeaning({ up: up.value.instructions, down: down.value.instructions }, from, to);
  if (meaning.length > 0) return { ok: false, issues: meaning.map((issue) => blameAppups(issue, appups)) };
  const planReasons = {
    up: [...reloads.map((r) => r.why.up), ...appOrderReasons("up", diff, from, to), ...up.value.reasons],
    down: [...reloads.map((r) => r.why.down), ...appOrderReasons("down", diff, to, from), ...down.value.reasons],
  };
  const file: RelupFile = {
    format: 1,
    release: b.name,
    from: { version: a.version, identity: from.identity },
    to: { version: b.version, identity: to.identity },
    up: up.value.instructions,
    down: down.value.instructions,
    notes: [
      ...diff.npm.changes.map((c) => `npm: ${describePackageChange(c, restart.length > 0, diff.npm.withoutMetadata)}`),
      ...planReasons.up.map((r) => `up: ${r}`),
      ...planReasons.down.map((r) => `down: ${r}`),
      ...warnings.map((w) => `warning: ${formatPlanWarning(w)}`),
    ],
  };
  return { ok: true, value: { file, diff, appups, reasons: planReasons, warnings } };
}

/** Every module added, removed or changed, and every module of an added application, as `app/module`. */
function changingModules(diff: ReleaseDiff): Set<string> {
  const out = new Set<string>();
  for (const app of diff.changed) {
    for (const m of [...app.added, ...app.removed, ...app.changed.map((c) => c.to)]) out.add(`${app.name}/${m.name}`);
  }
  for (const app of diff.added) for (const m of app.modules) out.add(`${app.name}/${m.name}`);
  return out;
}

/** For each removed module, the changing modules of the old release that imported it. */
function importersOfRemoved(from: ReleaseModel, diff: ReleaseDiff, changing: Set<string>): Map<string, string[]> {
  const removed = new Set(diff.changed.flatMap((app) => app.removed.map((m) => `${app.name}/${m.name}`)));
  const out = new Map<string, string[]>();
  for (const app of from.apps) {
    for (const m of app.modules) {
      const ref = `${app.name}/${m.name}`;
      if (!changing.has(ref)) continue;
      for (const i of m.imports) if (removed.has(i)) out.set(i, [...(out.get(i) ?? []), ref]);
    }
  }
  return out;
}

/**
 * Scripts in application order. Changed and added applications go in the target release's start order,
 * so an application is upgraded or started after the applications it depends on. Applications that
 * leave go last, in reverse start order of the running release: every application that used them has
 * been upgraded first (the order OTP settled on after ERL-1410).
 */
function orderScripts(mode: "up" | "down", diff: ReleaseDiff, appups: PlanAppup[], reloads: readonly PackageReload[], from: ReleaseModel, to: ReleaseModel, restart: boolean): Script[] {
  const entering = new Set((mode === "up" ? diff.added : diff.removed).map((a) => a.name));
  const leaving = new Set((mode === "up" ? diff.removed : diff.added).map((a) => a.name));
  const scripts: Script[] = [];
  if (restart) scripts.push({ app: to.release.name, origin: "generated", instructions: [{ op: "restart_new_emulator" }] });
  for (const name of startOrder(to.apps)) {
    const appup = appups.find((p) => p.app === name);
    if (appup) scripts.push({ app: name, origin: appup.source, instructions: mode === "up" ? appup.up : appup.down });
    else if (entering.has(name)) scripts.push({ app: name, origin: "generated", instructions: [{ op: "add_application", application: name }] });
    const own = reloads.filter((r) => r.app === name && r.sections[mode]);
    // A reload's instruction is its own inverse (load_module, update soft): the same both ways.
    if (own.length > 0) scripts.push({ app: name, origin: "generated (npm packages)", instructions: own.map((r) => r.instruction) });
  }
  for (const name of startOrder(from.apps).reverse()) {
    if (leaving.has(name)) scripts.push({ app: name, origin: "generated", instructions: [{ op: "remove_application", application: name }] });
  }
  return scripts;
}

function appOrderReasons(mode: "up" | "down", diff: ReleaseDiff, from: ReleaseModel, to: ReleaseModel): string[] {
  const entering = mode === "up" ? diff.added : diff.removed;
  const leaving = mode === "up" ? diff.removed : diff.added;
  const touched = new Set([...diff.changed.map((c) => c.name), ...entering.map((a) => a.name)]);
  const out: string[] = [];
  for (const app of entering) {
    const deps = app.applications.filter((d) => touched.has(d));
    if (deps.length > 0) out.push(`start \`${app.name}\` after ${deps.map((d) => `\`${d}\``).join(", ")}: \`${app.name}\` depends on ${deps.length > 1 ? "them" : "it"}`);
  }
  for (const app of leaving) {
    const users = from.apps.filter((u: AppFile) => u.applications.includes(app.name) && to.apps.some((t) => t.name === u.name)).map((u) => `\`${u.name}\``);
    if (users.length > 0) out.push(`remove \`${app.name}\` last: ${users.join(", ")} used it and ${users.length > 1 ? "are" : "is"} upgraded first`);
  }
  return out;
}

function restartReasons(diff: ReleaseDiff): string[] {
  return [...diff.npm.restart, ...(diff.node ? [`the Node range changes ${diff.node.from} → ${diff.node.to}`] : [])];
}

function dedupe(issues: PlanIssue[]): PlanIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = JSON.stringify(i.code === "dependency-cycle" ? { code: i.code, members: [...new Set(i.cycle)].sort() } : i);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A meaning issue of a generated plan names the hand-written appup.json files that made it (a generated
 * appup always passes): those of the applications the issue names, else every hand-written one.
 */
function blameAppups(issue: PlanIssue, appups: readonly PlanAppup[]): PlanIssue {
  if (issue.code !== "plan-meaning") return issue;
  const handWritten = appups.filter((a) => a.source !== "generated");
  const p = issue.problem;
  const named = "module" in p ? p.module.slice(0, p.module.indexOf("/")) : "application" in p ? p.application : undefined;
  const own = handWritten.filter((a) => a.app === named);
  const files = [...new Set((own.length > 0 ? own : handWritten).map((a) => a.source))];
  return files.length > 0 ? { ...issue, appups: files } : issue;
}
