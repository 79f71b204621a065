/**
 * What plan generation and the plan checker find, as data (cf. systools_rc:format_error/1). Errors stop
 * generation (exit 1); warnings are shown with the plan. `formatPlanIssue` is the one place that turns an
 * issue into text: what was found, what was expected, and what to do.
 */
import { assertNever, ExitCode, UserError } from "../errors.ts";
import type { Op } from "./instruction.ts";

export type PlanIssue =
  | { code: "release-name-mismatch"; from: string; to: string }
  | { code: "version-not-greater"; release: string; from: string; to: string }
  | { code: "module-changed-same-version"; app: string; version: string; modules: string[] }
  | { code: "app-changed-same-version"; app: string; version: string; fields: string[] }
  | { code: "state-change-without-code-change"; module: string; from: string; to: string }
  | { code: "state-shape-changed-soft"; module: string; vsn: string | number | null; path: string; from: string; to: string }
  | { code: "dependency-cycle"; cycle: string[] }
  | { code: "removed-module-imported"; module: string; importedBy: string[] }
  | { code: "appup-version-mismatch"; file: string; expected: string; found: string }
  | { code: "appup-application-mismatch"; file: string; expected: string; found: string }
  | { code: "appup-bad-version-spec"; file: string; field: string; spec: string }
  | { code: "appup-no-path"; file: string; direction: "up" | "down"; version: string }
  | { code: "unknown-module"; file: string; field: string; module: string; release: string }
  | { code: "unknown-application"; file: string; field: string; application: string; release: string }
  | { code: "duplicate-module-instruction"; module: string; file: string }
  | { code: "appup-missing-module"; file: string; direction: "up" | "down"; modules: string[] }
  | { code: "appup-advanced-without-code-change"; file: string; direction: "up" | "down"; module: string }
  | { code: "appup-state-not-migrated"; file: string; direction: "up" | "down"; module: string; from: string; to: string }
  | { code: "removed-application-present"; file: string; field: string; application: string }
  | { code: "restarted-application-module"; file: string; field: string; module: string; application: string }
  | { code: "script"; section: "up" | "down"; at: number; problem: ScriptProblem }
  /**
   * `at` is the step's index (the section's length: its end); `step` says the step in words; `appups`, set
   * when generation refuses its own plan, the hand-written appup.json files whose instructions made it
   */
  | { code: "plan-meaning"; section: "up" | "down"; at: number; op?: Op; step?: string; problem: MeaningProblem; appups?: string[] };

/** What a plan does that the difference between its two releases does not call for, or leaves undone (check-plan-meaning.ts). */
export type MeaningProblem =
  | { kind: "state-not-migrated"; module: string; from: string; to: string; mode: "up" | "down" }
  | { kind: "code-change-mode"; mode: "up" | "down" }
  | { kind: "code-change-order"; module: string; mode: "up" | "down" }
  | { kind: "stopped-not-started"; module: string }
  | { kind: "not-loaded"; module: string; added: boolean; packages?: string[] }
  | { kind: "not-removed"; module: string }
  | { kind: "restart-required"; reasons: string[] }
  | { kind: "unknown-module"; module: string }
  | { kind: "remove-staying"; module: string }
  | { kind: "purge-untouched"; module: string }
  | { kind: "stop-unchanged"; module: string }
  | { kind: "application-ended"; application: string; function: string };

/** Structural problems of a low-level script (suspend/resume pairing, point of no return, object code). */
export type ScriptProblem =
  | { kind: "bad-op-before-point-of-no-return"; op: string }
  | { kind: "point-of-no-return-count"; count: number }
  | { kind: "object-code-after-point-of-no-return" }
  | { kind: "restart-new-emulator-not-first" }
  | { kind: "no-object-code"; module: string }
  | { kind: "suspended-not-resumed"; modules: string[] }
  | { kind: "resumed-not-suspended"; modules: string[] }
  | { kind: "code-change-not-suspended"; modules: string[] }
  | { kind: "stopped-not-started"; modules: string[] }
  | { kind: "started-not-stopped"; modules: string[] }
  | { kind: "conflicting-object-code"; application: string; versions: string[] }
  | { kind: "duplicate-barrier"; id: string };

export type PlanWarning =
  | { code: "module-state"; module: string; bindings: string[] }
  | { code: "restart-new-emulator"; reasons: string[] }
  | { code: "unordered-dependency"; module: string; dependsOn: string }
  | { code: "state-shape-unchecked"; module: string; missing: string[] }
  | { code: "package-objects"; module: string; packages: { package: string; from: string; to: string }[] }
  | { code: "native-second-copy"; module: string; package: string; release: string };

const q = (s: string) => `\`${s}\``;
const list = (xs: readonly string[]) => xs.map(q).join(", ");

export function formatPlanIssue(issue: PlanIssue): string {
  switch (issue.code) {
    case "release-name-mismatch":
      return `the releases are ${q(issue.from)} and ${q(issue.to)}: a plan upgrades one release to a later build of the same release. Fix: pass two builds of the same release.`;
    case "version-not-greater":
      return `${issue.release} ${issue.to} is not newer than ${issue.from}: an upgrade goes to a greater version. Fix: give the older release first, then the newer (<from> <to>; the way back is the plan's \`down\` section, which verify checks too), or bump \`version\` in relup.config.json above ${issue.from} and rebuild.`;
    case "module-changed-same-version":
      return `application ${q(issue.app)} kept version ${issue.version} but its module${issue.modules.length > 1 ? "s" : ""} ${list(issue.modules)} changed. Fix: bump the application's \`version\` in relup.config.json and rebuild.`;
    case "app-changed-same-version":
      return `application ${q(issue.app)} kept version ${issue.version} but its ${issue.fields.join(", ")} changed. Fix: bump the application's \`version\` in relup.config.json and rebuild.`;
    case "state-change-without-code-change":
      return `server ${q(issue.module)} changed its state version (vsn ${issue.from} → ${issue.to}) but does not export \`codeChange\`: running processes would keep state of the old shape. Fix: export \`codeChange(oldVsn, state, extra)\` from ${q(issue.module)} migrating up from ${issue.from} and down from {down: ${issue.from}}.`;
    case "state-shape-changed-soft":
      return formatShapeChanged(issue);
    case "dependency-cycle":
      return `changed modules depend on each other in a cycle: ${issue.cycle.map(q).join(" → ")}; no load order satisfies every module. Fix: break the cycle (move the shared part to a module of its own), or write an appup.json that orders them.`;
    case "removed-module-imported":
      return `module ${q(issue.module)} is removed but ${list(issue.importedBy)} still import${issue.importedBy.length > 1 ? "" : "s"} it in the new release. Fix: stop importing it, or keep the module.`;
    case "appup-version-mismatch":
      return `${issue.file}: version: is ${issue.found}, but the application is ${issue.expected}. Fix: set \`version\` to ${issue.expected}.`;
    case "appup-application-mismatch":
      return `${issue.file}: application: is ${q(issue.found)}, but it ships with ${q(issue.expected)}. Fix: set \`application\` to ${q(issue.expected)}.`;
    case "appup-bad-version-spec":
      return `${issue.file}: ${issue.field}: ${JSON.stringify(issue.spec)} is neither a semver version nor a range. Fix: write a version such as 1.0.0 or a range such as 1.x.`;
    case "appup-no-path":
      return `${issue.file}: no \`${issue.direction}\` entry matches version ${issue.version} (${issue.direction === "up" ? "from" : "to"}). Fix: add an entry for ${issue.version}, or delete appup.json to let relup generate it.`;
    case "unknown-module":
      return `${issue.file}: ${issue.field}: module ${q(issue.module)} is not in ${issue.release}. Fix: correct the module name (a module is its path inside the application, without extension).`;
    case "unknown-application":
      return `${issue.file}: ${issue.field}: application ${q(issue.application)} is not in ${issue.release}. Fix: correct the application name.`;
    case "duplicate-module-instruction":
      return `${issue.file}: module ${q(issue.module)} has more than one load, update, add or delete instruction. Fix: keep one instruction per module.`;
    case "appup-missing-module":
      return `${issue.file}: the ${issue.direction} instructions leave out ${list(issue.modules)}, which ${issue.modules.length > 1 ? "change" : "changes"} in this version: ${issue.modules.length > 1 ? "they" : "it"} would keep running old code. Fix: add an instruction for each (load_module, update, add_module or delete_module).`;
    case "appup-advanced-without-code-change":
      return `${issue.file}: ${issue.direction}: an advanced update of ${q(issue.module)}, which does not export \`codeChange\`: the migration would fail in every process. Fix: export codeChange from it, or make the update soft.`;
    case "appup-state-not-migrated":
      return `${issue.file}: ${issue.direction}: ${q(issue.module)} changes its state version (vsn ${issue.from} → ${issue.to}) but is not given an advanced update: its processes would keep state of the old shape. Fix: use { "op": "update", "module": ..., "change": { "advanced": {} } } (for a supervisor, "change": "supervisor" also does).`;
    case "removed-application-present":
      return `${issue.file}: ${issue.field}: remove_application of ${q(issue.application)}, which the target release still contains. Fix: drop the instruction, or use restart_application.`;
    case "restarted-application-module":
      return `${issue.file}: ${issue.field}: ${q(issue.module)} has an instruction of its own, but restart_application of ${q(issue.application)} already removes and loads every module of it: the two together would leave it removed. Fix: drop the module's instruction (the restart loads its new code; its processes start afresh), or drop restart_application.`;
    case "script":
      // Steps are counted from 1, as apply and the meaning check count them.
      return `${issue.section} ${atSectionEnd(issue.problem) ? "(end of the section)" : `step ${issue.at + 1}`}: ${formatScriptProblem(issue.problem)}`;
    case "plan-meaning":
      return `${issue.section} ${issue.step === undefined ? "(end of the section)" : `step ${issue.at + 1} (${issue.step})`}: ${formatMeaningProblem(issue.problem, issue.section, issue.appups)}`;
    default:
      return assertNever(issue);
  }
}

function formatShapeChanged(issue: Extract<PlanIssue, { code: "state-shape-changed-soft" }>): string {
  const where = `at ${issue.path}: was ${issue.from}, now ${issue.to}`;
  const kept = "A soft update keeps every process's state as it is: they would go on holding states of the old shape.";
  if (issue.vsn === null) {
    return `server ${q(issue.module)} declares no vsn, and the shape of its state changed (${where}). ${kept} Fix: declare \`export const vsn = 2\` and export \`codeChange\` migrating the state; the old version declared no vsn, so codeChange receives its content hash as oldVsn on the way up (and {down: hash} on the way down).`;
  }
  const next = typeof issue.vsn === "number" ? `(to ${issue.vsn + 1})` : "(to a new value)";
  const vsn = JSON.stringify(issue.vsn);
  return `server ${q(issue.module)} keeps vsn ${vsn} but the shape of its state changed (${where}). ${kept} Fix: bump \`vsn\` ${next} and export \`codeChange\` migrating up from ${vsn} and down from {down: ${vsn}}; or, if the shape did not mean to change, restore the old stateSchema.`;
}

/** Problems found once the whole section was read: they belong to no one step. */
function atSectionEnd(p: ScriptProblem): boolean {
  return p.kind === "suspended-not-resumed" || p.kind === "stopped-not-started" || (p.kind === "point-of-no-return-count" && p.count === 0);
}

function formatScriptProblem(p: ScriptProblem): string {
  switch (p.kind) {
    case "bad-op-before-point-of-no-return":
      return `\`${p.op}\` comes before point_of_no_return, where only load_object_code, apply and sync_nodes may run. Fix: move it after point_of_no_return.`;
    case "point-of-no-return-count":
      return `the script has ${p.count} point_of_no_return instructions; it needs exactly one. Fix: keep one, after every load_object_code.`;
    case "object-code-after-point-of-no-return":
      return "load_object_code after point_of_no_return: a missing or broken module would be found after the running code changed. Fix: read all object code before point_of_no_return.";
    case "restart-new-emulator-not-first":
      return "restart_new_emulator is not the first instruction. Fix: put it first; nothing runs hot before a node restart.";
    case "no-object-code":
      return `load of ${q(p.module)} has no load_object_code before the point of no return. Fix: add the module to a load_object_code.`;
    case "suspended-not-resumed":
      return `${list(p.modules)} suspended but never resumed: their processes would stop for good. Fix: add a resume.`;
    case "resumed-not-suspended":
      return `${list(p.modules)} resumed but never suspended. Fix: suspend them first, or drop the resume.`;
    case "code-change-not-suspended":
      return `code_change of ${list(p.modules)} while their processes are not suspended. Fix: suspend them before code_change.`;
    case "stopped-not-started":
      return `${list(p.modules)} stopped but never started again. Fix: add a start.`;
    case "started-not-stopped":
      return `${list(p.modules)} started but never stopped. Fix: stop them first, or drop the start.`;
    case "conflicting-object-code":
      return `object code of application ${q(p.application)} is read at versions ${p.versions.join(" and ")}. Fix: load one version of an application.`;
    case "duplicate-barrier":
      return `sync_nodes ${q(p.id)} appears more than once in the section: a fleet tells its barrier points apart by id. Fix: give each sync_nodes its own id.`;
    default:
      return assertNever(p);
  }
}

function formatMeaningProblem(p: MeaningProblem, section: "up" | "down", appups?: readonly string[]): string {
  // On the node the plan was given, so the fix is the generated plan; in `relup generate` the plan is the
  // generated one, made from hand-written appups: the fix is in them.
  const fix = (need?: string) =>
    appups && appups.length > 0
      ? `Fix: change ${appups.join(", ")}, whose instructions make this plan${need ? ` (it needs ${need})` : ""}, or delete ${appups.length > 1 ? "them" : "it"} to let relup generate the appup.`
      : `Fix: use the plan \`relup generate\` makes for these releases (edit a hand-written appup.json, not the plan), or edit this one back${need ? ` (${need})` : ""}.`;
  switch (p.kind) {
    case "state-not-migrated":
      return `${q(p.module)} changes its state version (vsn ${p.from} → ${p.to}) but the section has no code_change (mode ${p.mode}) for it: every process would keep state of the old shape. ${fix(appups ? `an update of ${q(p.module)} with "change": {"advanced": …}, or "supervisor" for a supervisor` : `a code_change ${p.mode} of ${q(p.module)} while its processes are suspended`)}`;
    case "code-change-mode":
      return `code_change mode ${p.mode} in the ${section} section: a migration ${section === "up" ? "up passes the old vsn" : "down passes {down: vsn}"}, and this one would run the wrong way. ${fix(`a code_change of mode ${section}`)}`;
    case "code-change-order":
      return p.mode === "up"
        ? `code_change up of ${q(p.module)} before its load in this suspension: the old code's codeChange would run, and the new code would then get state of the old shape. ${fix(`the code_change after the load, before the resume`)}`
        : `code_change down of ${q(p.module)} outside the suspension that loads it: between the two its processes would run code that does not match their state. ${fix(`the code_change and the load between one suspend and its resume`)}`;
    case "stopped-not-started":
      return `stop of ${q(p.module)}, which stays in the release and is not started again later in the section: its processes would be gone for good. ${fix(`a start of ${q(p.module)} after its load`)}`;
    case "not-loaded":
      if (p.packages) return `${q(p.module)} reaches the npm package${p.packages.length > 1 ? "s" : ""} ${list(p.packages)}, which differ${p.packages.length > 1 ? "" : "s"} in the release the section goes to, and the section does not load it again: it would keep running the other release's package. ${fix()}`;
      return `${q(p.module)} ${p.added ? "is new in" : "differs in"} the release the section goes to, and the section ${p.added ? "never loads it" : "does not end with it loaded"}: the node would run code the release does not have. ${fix()}`;
    case "restart-required":
      return `the section upgrades hot, but ${p.reasons.join("; ")}: only a restart of the node (restart_new_emulator) can do that. ${fix()}`;
    case "not-removed":
      return `${q(p.module)} is not in the release the section goes to, and the section does not remove it. ${fix()}`;
    case "unknown-module":
      return `${q(p.module)} is not a module of the release the section starts from: there is nothing of it to stop or remove. ${fix()}`;
    case "remove-staying":
      return `remove of ${q(p.module)}, which stays in the release the section goes to and is not loaded again after it. ${fix()}`;
    case "purge-untouched":
      return `purge of ${q(p.module)}, which the section neither loads nor removes before it: the purge would kill processes for no change of code. ${fix()}`;
    case "stop-unchanged":
      return `stop of ${q(p.module)}, whose code does not change in this upgrade: its processes would end for nothing. ${fix()}`;
    case "application-ended":
      return `${p.function} of application ${q(p.application)}, but ${q(p.application)} stays in the release and is not ${p.function === "stop" ? "started" : "loaded"} again later in the section: it would be left ${p.function === "stop" ? "stopped" : "unloaded"}. ${fix()}`;
    default:
      return assertNever(p);
  }
}

export function formatPlanWarning(w: PlanWarning): string {
  switch (w.code) {
    case "module-state":
      return `${q(w.module)} keeps data in module-level bindings (${list(w.bindings)}); reloading the module starts them afresh. Keep such state in a server process.`;
    case "restart-new-emulator":
      return `not a hot upgrade: ${w.reasons.join("; ")}. The node is restarted on the new release (listening sockets are handed over, in-memory state is not).`;
    case "unordered-dependency":
      return `${q(w.module)} lists ${q(w.dependsOn)} in dependsOn, which does not change in this upgrade; nothing to order.`;
    case "state-shape-unchecked":
      return `${q(w.module)} is updated soft (its state is kept as it is), but the shape of its state is unchecked: no stateSchema in ${w.missing.join(" nor in ")}. Export \`stateSchema\` from both versions: generation then compares their shapes, and \`relup verify\` checks that the states fit the new one.`;
    case "package-objects":
      return `${q(w.module)} is reloaded because ${w.packages.map((p) => `npm package ${q(p.package)} changes ${p.from} → ${p.to}`).join(" and ")}: objects its processes created with the old version and keep in their state (a client, a pool, a parser) keep running that version's code until they are replaced. Replace them in codeChange or create them on next use (docs/plans.md, npm packages).`;
    case "native-second-copy":
      return `${q(w.module)} is loaded from release ${w.release} and reaches npm package ${q(w.package)}, which has a native addon: a second copy of the addon is loaded beside the running one, which is never unloaded. Addons built with N-API allow it; if ${q(w.package)} cannot be loaded twice in one process, list it under npm.restart in relup.config.json (the upgrade then restarts the node).`;
    default:
      return assertNever(w);
  }
}

/** A check stopped plan generation: exit 1, with every issue found. */
export class PlanError extends UserError {
  override readonly name = "PlanError";
  constructor(readonly issues: readonly PlanIssue[]) {
    super(issues.map(formatPlanIssue).join("\n"), ExitCode.checkFailed);
  }
}
