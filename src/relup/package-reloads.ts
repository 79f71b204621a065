/**
 * The instructions npm package changes add to a plan (package-changes.ts says which modules they reach).
 *
 * A module whose code is the same in both releases but reaches a changed package is reloaded from the
 * target release, whose `require` resolves the package version of that release, in the script of its
 * application, after its appup (a module its appup already names, or an application its appup restarts,
 * is left to the appup):
 *   - a server or supervisor: `update` soft (suspend, load, resume), so that no message of its processes
 *     runs half on one package version and half on the other; its state is kept as it is: its code, and
 *     so the shape of its state, did not change
 *   - any other module: `load_module`
 * It depends on the modules it imports that change, as a changed module does (generate-appup.ts).
 *
 * Objects a process created with the old package version and holds in its state (a client, a pool, a
 * parser) keep running that version's code until the process replaces them: the plan warns per module.
 * A server whose state vsn changes as well gets, in its advanced update's `extra`, the packages it reaches
 * that change, so its codeChange knows what to rebuild.
 */
import type { AppupInstruction } from "../appup/instruction.ts";
import type { DependencyReasons } from "../appup/generate-appup.ts";
import type { ModuleMeta } from "../release/app-file.ts";
import type { Json } from "../release/names.ts";
import type { PlanWarning } from "./issues.ts";
import { describeVersions, type PackageChange } from "./package-changes.ts";
import type { ReleaseDiff } from "./release-diff.ts";
import type { ReleaseModel } from "./release-model.ts";

export interface PackageReload {
  app: string;
  /** `app/module` */
  ref: string;
  meta: ModuleMeta;
  instruction: AppupInstruction;
  why: { up: string; down: string };
  /** the directions in which no appup reloads the module already */
  sections: { up: boolean; down: boolean };
}

/** The appups of the plan, as far as reloads need them: which modules and applications they already cover. */
interface CoveredBy {
  app: string;
  up: readonly AppupInstruction[];
  down: readonly AppupInstruction[];
}

export function packageReloads(diff: ReleaseDiff, appups: readonly CoveredBy[], to: ReleaseModel, changing: ReadonlySet<string>, reasons: DependencyReasons): PackageReload[] {
  const out: PackageReload[] = [];
  const changes = new Map(diff.npm.changes.map((c) => [c.package, c]));
  const covered = { up: coveredBy(appups, "up"), down: coveredBy(appups, "down") };
  for (const [ref, packages] of diff.npm.reloads) {
    const app = ref.slice(0, ref.indexOf("/"));
    const name = ref.slice(app.length + 1);
    const sections = { up: !covered.up.has(ref) && !covered.up.has(app), down: !covered.down.has(ref) && !covered.down.has(app) };
    if (!sections.up && !sections.down) continue;
    const meta = to.apps.find((a) => a.name === app)?.modules.find((m) => m.name === name);
    if (!meta) continue;
    const dependsOn = meta.imports.filter((i) => changing.has(i));
    for (const dep of dependsOn) {
      reasons.set(`${ref}→${dep}`, { up: `\`${ref}\` imports \`${dep}\``, down: `the newer \`${ref}\` imports \`${dep}\`, so it goes back first` });
    }
    const processModule = meta.behaviour === "server" || meta.behaviour === "supervisor";
    const instruction: AppupInstruction = processModule ? { op: "update", module: name, change: "soft", dependsOn } : { op: "load_module", module: name, dependsOn };
    const reached = packages.map((p) => changes.get(p)!);
    out.push({
      app,
      ref,
      meta,
      instruction,
      sections,
      why: {
        up: `reload \`${ref}\` from the new release, though its code is the same: it ${reachesWords(meta, reached, "up")}`,
        down: `reload \`${ref}\` from the older release, though its code is the same: it ${reachesWords(meta, reached, "down")}`,
      },
    });
  }
  return out;
}

/**
 * What the appups already reload in one direction, whichever application's appup names it: modules as
 * `app/module` (an appup may name another application's module), and applications it restarts whole.
 */
function coveredBy(appups: readonly CoveredBy[], mode: "up" | "down"): Set<string> {
  const out = new Set<string>();
  for (const appup of appups) {
    for (const i of appup[mode]) {
      if (i.op === "restart_application") out.add(i.application);
      // qualified as the translation qualifies it (expand.ts)
      else if (i.op !== "apply" && "module" in i) out.add(i.module.includes("/") && !i.module.startsWith("./") ? i.module : `${appup.app}/${i.module}`);
    }
  }
  return out;
}

/** `app/module` → the `extra` of its advanced update: `{packages: {name: {from, to}}}` of the changed packages it reaches. */
export function packageHints(diff: ReleaseDiff): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const app of diff.changed) {
    for (const { to } of app.changed) {
      const ref = `${app.name}/${to.name}`;
      const reached = diff.npm.changes.filter((c) => c.restart === undefined && c.importers.includes(ref));
      if (reached.length === 0) continue;
      const packages: Record<string, Json> = {};
      for (const c of reached) packages[c.package] = { from: c.from ?? null, to: c.to ?? null };
      out.set(ref, { packages });
    }
  }
  return out;
}

/** A server that stays and reaches a changed package: objects of the old version in its state keep running it. */
export function packageObjectWarnings(diff: ReleaseDiff, to: ReleaseModel): PlanWarning[] {
  const servers = new Set(to.apps.flatMap((a) => a.modules.filter((m) => m.behaviour === "server").map((m) => `${a.name}/${m.name}`)));
  const leaving = new Set(diff.changed.flatMap((a) => [...a.added, ...a.removed].map((m) => `${a.name}/${m.name}`)));
  const byModule = new Map<string, { package: string; from: string; to: string }[]>();
  for (const c of diff.npm.changes) {
    if (c.from === undefined || c.to === undefined) continue;
    for (const ref of c.importers) {
      if (servers.has(ref) && !leaving.has(ref)) byModule.set(ref, [...(byModule.get(ref) ?? []), { package: c.package, from: c.from, to: c.to }]);
    }
  }
  const warnings: PlanWarning[] = [...byModule].map(([module, packages]) => ({ code: "package-objects", module, packages }));
  for (const s of diff.npm.secondCopies) warnings.push({ code: "native-second-copy", module: s.module, package: s.package, release: to.release.version });
  return warnings;
}

function reachesWords(meta: ModuleMeta, reached: readonly PackageChange[], mode: "up" | "down"): string {
  return reached
    .map((c) => {
      const requires = c.package === c.name && (meta.packages ?? []).includes(c.name);
      const through = (meta.packages ?? []).filter((p) => c.via.includes(p));
      const how = requires ? "requires" : `reaches, through ${through.map((v) => `\`${v}\``).join(", ") || "another package"},`;
      const back = { sameVersion: c.sameVersion, ...(c.to !== undefined ? { from: c.to } : {}), ...(c.from !== undefined ? { to: c.from } : {}) };
      return `${how} \`${c.package}\`, which ${describeVersions(mode === "up" ? c : back)}`;
    })
    .join("; and ");
}
