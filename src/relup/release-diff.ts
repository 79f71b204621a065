/**
 * The difference between two builds of a release: applications added, removed, changed (version
 * bumped) and unchanged; per changed application, modules added, removed and changed (by sha256) and
 * env changes; npm packages (package-changes.ts) and the Node range. Pure. Also reports what must not happen: a module
 * or env that changed while its application kept its version.
 */
import { isDeepStrictEqual } from "node:util";
import type { AppFile, ModuleMeta } from "../release/app-file.ts";
import type { Json } from "../release/names.ts";
import type { PlanIssue } from "./issues.ts";
import { diffPackages, type PackageDiff } from "./package-changes.ts";
import type { ReleaseModel } from "./release-model.ts";

export interface EnvChange {
  /** keys whose value changed, with the new value */
  changed: Record<string, Json>;
  /** keys that are new, with their value */
  added: Record<string, Json>;
  removed: string[];
}

export interface AppDiff {
  name: string;
  from: AppFile;
  to: AppFile;
  added: ModuleMeta[];
  removed: ModuleMeta[];
  changed: { from: ModuleMeta; to: ModuleMeta }[];
  env: EnvChange | undefined;
}

export interface ReleaseDiff {
  added: AppFile[];
  removed: AppFile[];
  changed: AppDiff[];
  unchanged: AppFile[];
  npm: PackageDiff;
  node: { from: string; to: string } | undefined;
}

export function diffReleases(from: ReleaseModel, to: ReleaseModel): { diff: ReleaseDiff; issues: PlanIssue[] } {
  const issues: PlanIssue[] = [];
  const before = new Map(from.apps.map((a) => [a.name, a]));
  const after = new Map(to.apps.map((a) => [a.name, a]));
  const diff: ReleaseDiff = {
    added: to.apps.filter((a) => !before.has(a.name)),
    removed: from.apps.filter((a) => !after.has(a.name)),
    changed: [],
    unchanged: [],
    npm: diffPackages(from, to),
    node: from.release.node === to.release.node ? undefined : { from: from.release.node, to: to.release.node },
  };
  for (const app of to.apps) {
    const old = before.get(app.name);
    if (!old) continue;
    const appDiff = diffApp(old, app);
    if (old.version === app.version) {
      const modules = [...appDiff.added, ...appDiff.removed, ...appDiff.changed.map((c) => c.to)].map((m) => m.name).sort();
      if (modules.length > 0) issues.push({ code: "module-changed-same-version", app: app.name, version: app.version, modules });
      const fields = (["env", "start", "applications", "description"] as const).filter((f) => !isDeepStrictEqual(old[f], app[f]));
      if (modules.length === 0 && fields.length > 0) issues.push({ code: "app-changed-same-version", app: app.name, version: app.version, fields });
      diff.unchanged.push(app);
    } else {
      diff.changed.push(appDiff);
    }
  }
  return { diff, issues };
}

function diffApp(from: AppFile, to: AppFile): AppDiff {
  const before = new Map(from.modules.map((m) => [m.name, m]));
  const after = new Map(to.modules.map((m) => [m.name, m]));
  return {
    name: to.name,
    from,
    to,
    added: to.modules.filter((m) => !before.has(m.name)),
    removed: from.modules.filter((m) => !after.has(m.name)),
    changed: to.modules.flatMap((m) => {
      const old = before.get(m.name);
      return old && old.sha256 !== m.sha256 ? [{ from: old, to: m }] : [];
    }),
    env: diffEnv(from.env, to.env),
  };
}

export function diffEnv(from: Record<string, Json>, to: Record<string, Json>): EnvChange | undefined {
  const change: EnvChange = { changed: {}, added: {}, removed: [] };
  for (const [key, value] of Object.entries(to)) {
    if (!(key in from)) change.added[key] = value;
    else if (!isDeepStrictEqual(from[key], value)) change.changed[key] = value;
  }
  change.removed = Object.keys(from).filter((k) => !(k in to)).sort();
  const empty = Object.keys(change.changed).length + Object.keys(change.added).length + change.removed.length === 0;
  return empty ? undefined : change;
}
