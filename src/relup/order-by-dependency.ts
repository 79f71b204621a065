/**
 * Phase 5 of the translation, the dependency engine (systools_rc translate_dependent_instrs).
 *
 * Modules with an update, load_module, add_module or delete_module instruction form a graph with an
 * edge from each module to the modules in its dependsOn. Each weakly connected group becomes one block,
 * placed where its first instruction stood, so that every process of the group is suspended for one
 * window and no process runs against a half-upgraded group. Inside a block, modules are in dependency
 * order: a module before the modules it depends on. Then:
 *
 * Each update's module is suspended with its own timeout (consecutive suspends when the timeouts differ).
 *
 *   up:   stop(removed process modules) · suspend(updates) · loads, dependencies first · code_change up
 *         · resume(reverse) · purge(removed)
 *   down: stop(removed process modules) · suspend(updates) · code_change down (dynamic) · loads,
 *         dependents first · code_change down (static) · resume(reverse) · purge(removed)
 * (the purges then move to the end of the script: purges-last.ts)
 *
 * Why: on the way up a dependent's new code may call what only the new dependency has, so dependencies
 * load first. On the way down the newer dependent is replaced first, so it never runs against an older
 * dependency. The down migration of a dynamic module lives in the newer code, so it runs before the older
 * code is loaded; a supervisor (static) re-reads its child specs from the code that is loaded, so it
 * migrates after. Suspension is in dependency order both ways (callers stop before what they call) and
 * resumption in reverse (what is called runs again before its callers). A cycle has no such order and is
 * an error, not a silent fallback to file order.
 */
import { compareStrings } from "../release/fs-utils.ts";
import type { Json } from "../release/names.ts";
import type { DepInstr } from "./expand.ts";
import type { Instruction } from "./instruction.ts";
import type { PlanIssue } from "./issues.ts";
import { findApp, type ReleaseModel } from "./release-model.ts";
import type { Item } from "./translate-applications.ts";

export interface ObjectCode {
  application: string;
  version: string;
  module: string;
}

export interface Ordered {
  objectCode: ObjectCode[];
  instructions: Instruction[];
  reasons: string[];
  issues: PlanIssue[];
}

export function orderByDependency(
  mode: "up" | "down",
  items: readonly Item[],
  to: ReleaseModel,
  dependencyReasons: ReadonlyMap<string, { up: string; down: string }>,
  /** the release running before this script: what a removed module was (a process module or not) */
  from: ReleaseModel,
): Ordered {
  const deps = items.filter((i): i is DepInstr => i.op === "dep");
  const position = new Map(deps.map((d, n) => [d.module, n]));
  const edges = new Map(deps.map((d) => [d.module, d.dependsOn.filter((m) => position.has(m) && m !== d.module)]));
  const group = components(deps.map((d) => d.module), edges);
  const membersOf = new Map<number, DepInstr[]>();
  for (const d of deps) membersOf.set(group.get(d.module)!, [...(membersOf.get(group.get(d.module)!) ?? []), d]);
  const out: Ordered = { objectCode: [], instructions: [], reasons: [], issues: [] };
  const emitted = new Set<number>();

  for (const item of items) {
    if (item.op === "low") {
      out.instructions.push(item.instruction);
      if (item.reason) out.reasons.push(item.reason);
      continue;
    }
    if (item.op !== "dep") continue;
    const g = group.get(item.module)!;
    if (emitted.has(g)) continue;
    emitted.add(g);
    const members = membersOf.get(g)!;
    const cycle = findCycle(members.map((d) => d.module), edges);
    if (cycle) {
      out.issues.push({ code: "dependency-cycle", cycle });
      continue;
    }
    const ordered = topological(members, edges, position);
    emitBlock(mode, ordered, to, from, out);
    explain(mode, ordered, edges, dependencyReasons, out.reasons);
  }
  return out;
}

function emitBlock(mode: "up" | "down", ordered: DepInstr[], to: ReleaseModel, from: ReleaseModel, out: Ordered): void {
  const updates = ordered.filter((d) => d.kind === "update");
  const updateMods = updates.map((d) => d.module);
  const advanced = (d: DepInstr) => d.kind === "update" && d.change !== "soft";
  const extra = (d: DepInstr): Json => (d.change === "soft" ? null : d.change.advanced);
  const codeChange = (list: DepInstr[], dir: "up" | "down"): Instruction[] =>
    list.length === 0 ? [] : [{ op: "code_change", mode: dir, modules: list.map((d) => ({ module: d.module, extra: extra(d), ...(d.codeChangeTimeout !== undefined ? { timeout: d.codeChangeTimeout } : {}) })) }];
  const loads = (mode === "up" ? [...ordered].reverse() : ordered).map((d): Instruction => {
    if (d.kind === "delete_module") return { op: "remove", module: d.module, prePurge: d.prePurge, postPurge: d.postPurge };
    // The module's own application: an appup may name a module of another application.
    const app = findApp(to, d.module.slice(0, d.module.indexOf("/")))!;
    out.objectCode.push({ application: app.name, version: app.version, module: d.module.slice(app.name.length + 1) });
    return { op: "load", module: d.module, prePurge: d.prePurge, postPurge: d.postPurge };
  });
  const removed = ordered.filter((d) => d.kind === "delete_module").map((d) => d.module);
  const block: Instruction[] = [];
  // Children running a process module that leaves are stopped through their supervisors first (their
  // terminate runs while the code is loaded, and no supervisor restarts them), before anything of the
  // block is suspended: a suspended supervisor could not answer. A rollback starts them again.
  const stopped = ordered.filter((d) => d.kind === "delete_module" && isProcessModule(from, d.module)).map((d) => d.module);
  if (stopped.length > 0) {
    block.push({ op: "stop", modules: stopped });
    for (const m of stopped) out.reasons.push(`stop the supervised processes of \`${m}\` before removing it${mode === "down" ? " on the way down" : ""}: their supervisor terminates them while the code is loaded (terminate runs) and does not restart them`);
  }
  block.push(...suspends(updates));
  if (mode === "up") {
    block.push(...loads, ...codeChange(updates.filter(advanced), "up"));
  } else {
    block.push(
      ...codeChange(updates.filter((d) => advanced(d) && d.modType === "dynamic"), "down"),
      ...loads,
      ...codeChange(updates.filter((d) => advanced(d) && d.modType === "static"), "down"),
    );
  }
  if (updateMods.length > 0) block.push({ op: "resume", modules: [...updateMods].reverse() });
  // Moved to the end of the script by the translation (purges-last.ts): a purge may kill processes.
  if (removed.length > 0) block.push({ op: "purge", modules: removed });
  out.instructions.push(...block);
}

/** A server or supervisor module of `model`: processes may run it. */
function isProcessModule(model: ReleaseModel, ref: string): boolean {
  const slash = ref.indexOf("/");
  const behaviour = findApp(model, ref.slice(0, slash))?.modules.find((m) => m.name === ref.slice(slash + 1))?.behaviour;
  return behaviour === "server" || behaviour === "supervisor";
}

/**
 * The block's modules suspended in dependency order, each with the timeout its appup gave it: a module
 * must not wait for the largest timeout of its block (nor be cut short by the smallest). Neighbours with
 * the same timeout share one suspend, so a block without timeouts keeps a single one.
 */
function suspends(updates: DepInstr[]): Instruction[] {
  const out: Extract<Instruction, { op: "suspend" }>[] = [];
  for (const d of updates) {
    const last = out.at(-1);
    if (last && last.timeout === d.timeout) last.modules.push(d.module);
    else out.push({ op: "suspend", modules: [d.module], ...(d.timeout !== undefined ? { timeout: d.timeout } : {}) });
  }
  return out;
}

function explain(
  mode: "up" | "down",
  ordered: DepInstr[],
  edges: Map<string, string[]>,
  reasons: ReadonlyMap<string, { up: string; down: string }>,
  into: string[],
): void {
  // What happens to a module in this direction: a delete_module removes it; everything else loads it.
  const does = (d: DepInstr | undefined, form: "verb" | "gerund") =>
    d?.kind === "delete_module" ? (form === "verb" ? "remove" : "removing") : form === "verb" ? "load" : "loading";
  const byModule = new Map(ordered.map((d) => [d.module, d]));
  for (const d of ordered) {
    for (const dep of [...(edges.get(d.module) ?? [])].sort(compareStrings)) {
      const why = reasons.get(`${d.module}→${dep}`)?.[mode] ?? `${d.origin} lists \`${dep}\` in the dependsOn of \`${d.module}\``;
      const first = mode === "up" ? byModule.get(dep) : d;
      const second = mode === "up" ? d : byModule.get(dep);
      into.push(`${does(first, "verb")} \`${first?.module}\` before ${does(second, "gerund")} \`${second?.module}\`${mode === "down" ? " on the way down" : ""}: ${why}`);
    }
  }
  const updates = ordered.filter((d) => d.kind === "update").map((d) => `\`${d.module}\``);
  if (updates.length > 1) into.push(`suspend ${updates.join(", ")} together: they depend on each other, so none runs while the group is half upgraded`);
}

/** Weakly connected components: module → component number, numbered in order of first appearance. */
function components(modules: string[], edges: Map<string, string[]>): Map<string, number> {
  const parent = new Map(modules.map((m) => [m, m]));
  const find = (m: string): string => {
    let root = m;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(m, root);
    return root;
  };
  for (const [m, targets] of edges) for (const t of targets) parent.set(find(m), find(t));
  const numbers = new Map<string, number>();
  const out = new Map<string, number>();
  for (const m of modules) {
    const root = find(m);
    if (!numbers.has(root)) numbers.set(root, numbers.size);
    out.set(m, numbers.get(root)!);
  }
  return out;
}

/** A cycle among `modules`, as a path back to its start (`a → b → a`), or undefined. */
export function findCycle(modules: string[], edges: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (m: string): string[] | undefined => {
    if (state.get(m) === "done") return undefined;
    if (state.get(m) === "visiting") return [...stack.slice(stack.indexOf(m)), m];
    state.set(m, "visiting");
    stack.push(m);
    for (const next of edges.get(m) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(m, "done");
    return undefined;
  };
  for (const m of modules) {
    const cycle = visit(m);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Dependents before their dependencies; among modules free to go, the one written first goes first. */
function topological(members: DepInstr[], edges: Map<string, string[]>, position: Map<string, number>): DepInstr[] {
  const indegree = new Map(members.map((d) => [d.module, 0]));
  for (const d of members) for (const t of edges.get(d.module) ?? []) indegree.set(t, (indegree.get(t) ?? 0) + 1);
  const byModule = new Map(members.map((d) => [d.module, d]));
  const ready = members.filter((d) => indegree.get(d.module) === 0).map((d) => d.module);
  const out: DepInstr[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const next = ready.shift()!;
    out.push(byModule.get(next)!);
    for (const t of edges.get(next) ?? []) {
      indegree.set(t, indegree.get(t)! - 1);
      if (indegree.get(t) === 0) ready.push(t);
    }
  }
  return out;
}
