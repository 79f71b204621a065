/**
 * Generate the appup of one changed application: the high-level instructions up from the old version
 * and down to it (ARCHITECTURE §5, after rebar's and distillery's generators, with their known faults
 * fixed: the downgrade is generated too, and dependencies come from the build's import graph).
 */
import type { ModuleMeta } from "../release/app-file.ts";
import type { Json } from "../release/names.ts";
import type { AppDiff } from "../relup/release-diff.ts";
import { invert } from "./invert.ts";
import type { AppupInstruction } from "./instruction.ts";

export interface GeneratedAppup {
  up: AppupInstruction[];
  down: AppupInstruction[];
}

/** Why `module` depends on `dependency`, said for each direction: `"shop/price→shop/tax"` → {up, down}. */
export type DependencyReasons = Map<string, { up: string; down: string }>;

export interface GenerateContext {
  /** every module that changes in this upgrade, as `app/module` (added, removed or changed, in any application) */
  changing: ReadonlySet<string>;
  /** `app/module` → the changed modules of the old release that imported it (for removed modules) */
  importersBefore: ReadonlyMap<string, string[]>;
  reasons: DependencyReasons;
  /** `app/module` → the `extra` its advanced update passes to codeChange (the npm packages it reaches that change) */
  extra?: ReadonlyMap<string, Json>;
}

export function generateAppup(diff: AppDiff, ctx: GenerateContext): GeneratedAppup {
  const ref = (m: ModuleMeta) => `${diff.name}/${m.name}`;
  const importsChanging = (m: ModuleMeta) => {
    const deps = m.imports.filter((i) => ctx.changing.has(i));
    for (const dep of deps) {
      ctx.reasons.set(`${ref(m)}→${dep}`, { up: `\`${ref(m)}\` imports \`${dep}\``, down: `the newer \`${ref(m)}\` imports \`${dep}\`, so it goes back first` });
    }
    return deps;
  };
  // A changed supervisor re-reads its child specs in code_change: children running a new module can be
  // started only once that module is loaded, and a removed module goes in the same block as the
  // supervisor that drops its child specs (its children are stopped first, by a stop step). Those
  // modules are its dependencies (added) or depend on it (removed).
  const supervisors = diff.changed.filter((c) => c.to.behaviour === "supervisor").map((c) => ref(c.to));
  const isProcessModule = (m: ModuleMeta) => m.behaviour === "server" || m.behaviour === "supervisor";
  // These edges yield to imports: a new module that itself imports the supervisor keeps its import order.
  const importsOf = (m: string) => diff.to.modules.find((x) => ref(x) === m)?.imports ?? [];
  const childModules = (sup: string) => {
    const added = diff.added.filter(isProcessModule).map(ref).filter((a) => !reaches(a, sup, importsOf));
    for (const a of added) ctx.reasons.set(`${sup}→${a}`, {
        up: `supervisor \`${sup}\` may start children running the new \`${a}\``,
        down: `supervisor \`${sup}\` drops the child specs running \`${a}\` when it re-reads its older child specs`,
      });
    return added;
  };
  const stoppedBy = (m: ModuleMeta) => {
    if (!isProcessModule(m)) return [];
    for (const sup of supervisors) ctx.reasons.set(`${ref(m)}→${sup}`, {
        up: `supervisor \`${sup}\` drops the child specs running \`${ref(m)}\` when it re-reads its child specs`,
        down: `the older supervisor \`${sup}\` may start children running \`${ref(m)}\` again`,
      });
    return supervisors;
  };
  const up: AppupInstruction[] = [];
  // Added modules first, then changed, then removed: the order only matters inside a dependency
  // group, and there the dependency engine orders them; this keeps unrelated steps in a stable order.
  for (const m of diff.added) up.push({ op: "add_module", module: m.name, dependsOn: importsChanging(m) });
  for (const { from, to } of diff.changed) {
    const extra = to.behaviour === "supervisor" ? childModules(ref(to)) : [];
    up.push(classify(from, to, [...importsChanging(to), ...extra], ctx.extra?.get(ref(to))));
  }
  for (const m of diff.removed) {
    // A removed module goes after the modules that stopped importing it are reloaded, so no running code
    // still calls it: its importers are its dependencies here.
    const importers = ctx.importersBefore.get(ref(m)) ?? [];
    for (const importer of importers) {
      ctx.reasons.set(`${ref(m)}→${importer}`, {
        up: `\`${importer}\` imported \`${ref(m)}\` and no longer does`,
        down: `the older \`${importer}\` imports \`${ref(m)}\` again`,
      });
    }
    up.push({ op: "delete_module", module: m.name, dependsOn: [...importers, ...stoppedBy(m)] });
  }
  if (diff.env) {
    up.push({ op: "apply", module: "application", function: "config_change", args: [diff.name, diff.env.changed, diff.env.added, diff.env.removed] });
  }
  return { up, down: invertScript(up, diff) };
}

/**
 * Decision table: how a changed module is upgraded. First match wins.
 * - supervisor: `update` "supervisor" (re-reads its child specs after the new code is loaded);
 * - server whose declared vsn changed: `update` advanced, to migrate state with `codeChange` (its `extra`
 *   names the npm packages the module reaches that change, if any);
 * - server without a declared vsn that exports `codeChange`: advanced too (its state version is unknown);
 * - any other server: `update` soft (suspend, load, resume: no message runs half old, half new);
 * - plain modules and application start modules: `load_module`.
 * A server that declares an unchanged vsn is soft even if it exports `codeChange`: its state keeps its shape.
 */
export function classify(from: ModuleMeta, to: ModuleMeta, dependsOn: string[], extra: Json = {}): AppupInstruction {
  if (to.behaviour === "supervisor") return { op: "update", module: to.name, change: "supervisor", dependsOn };
  if (to.behaviour === "server") {
    const vsnChanged = (from.vsnDeclared || to.vsnDeclared) && from.vsn !== to.vsn;
    const undeclaredWithMigration = !to.vsnDeclared && to.exports.includes("codeChange");
    if (vsnChanged || undeclaredWithMigration) return { op: "update", module: to.name, change: { advanced: extra }, dependsOn };
    return { op: "update", module: to.name, change: "soft", dependsOn };
  }
  return { op: "load_module", module: to.name, dependsOn };
}

/** The downgrade: each instruction inverted, in reverse order; env changes reverse to the old values. */
function invertScript(up: readonly AppupInstruction[], diff: AppDiff): AppupInstruction[] {
  return [...up].reverse().map((i) => {
    if (i.op === "apply" && i.module === "application" && i.function === "config_change") {
      const back = reverseEnv(diff);
      return { ...i, args: [diff.name, back.changed, back.added, back.removed] };
    }
    return invert(i);
  });
}

function reverseEnv(diff: AppDiff) {
  const from = diff.from.env;
  const to = diff.to.env;
  return {
    changed: Object.fromEntries(Object.keys(from).filter((k) => k in to && JSON.stringify(from[k]) !== JSON.stringify(to[k])).map((k) => [k, from[k]!])),
    added: Object.fromEntries(Object.keys(from).filter((k) => !(k in to)).map((k) => [k, from[k]!])),
    removed: Object.keys(to).filter((k) => !(k in from)).sort(),
  };
}

/** Whether `to` is reachable from `from` through `next` (a depth-first walk). */
function reaches(from: string, to: string, next: (m: string) => readonly string[]): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const m = stack.pop()!;
    if (m === to) return true;
    if (seen.has(m)) continue;
    seen.add(m);
    stack.push(...next(m));
  }
  return false;
}
