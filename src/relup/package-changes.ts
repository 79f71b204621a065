/**
 * What changes in the npm packages between two releases, and what it takes to upgrade it. Pure.
 *
 * Packages are upgraded as OTP upgrades library applications: each release ships its own
 * `node_modules/`, so the old and the new version of a package can be loaded side by side, and a release
 * module that reaches a changed package is reloaded from the new release, whose `require` resolves the new
 * version, even if its own code did not change. A module reaches a package when it requires it, or
 * requires a package that depends on it, at any depth (the release's resolved dependency graph).
 *
 *   changed     a package whose version or files differ, one added, one removed (by its place under
 *               node_modules/, so a nested copy is a package of its own)
 *   importers   the modules of either release that reach it
 *   reloads     the modules in both releases with the same code that reach a changed package: generation
 *               gives them a load_module or an update, as if their code had changed
 *   restart     what cannot be reloaded in place, so the upgrade restarts the node: a changed package with
 *               a native addon (a process cannot load two versions of one), a package the project lists
 *               under `npm.restart` (changed, added or removed), and any package change between releases
 *               built without this metadata
 */
import { compareStrings, sha256 } from "../release/fs-utils.ts";
import type { ReleaseModel } from "./release-model.ts";

/** The part of a release the package diff reads. */
type Release = Pick<ReleaseModel, "release" | "apps">;

export interface PackageChange {
  /** its place under node_modules/: `tiny-pad`, or nested, `a/node_modules/b` */
  package: string;
  name: string;
  /** the version before; absent when the package is added */
  from?: string;
  /** the version after; absent when the package is removed */
  to?: string;
  /** the version is the same and the files differ */
  sameVersion: boolean;
  /** a dependency of the project's package.json, rather than of another package */
  direct: boolean;
  /** transitive: the project's dependencies it is reached through */
  via: string[];
  /** the release modules (`app/module`) of either release that reach it */
  importers: string[];
  /** why it makes the upgrade restart the node, when it does */
  restart?: string;
}

export interface PackageDiff {
  changes: PackageChange[];
  /** modules of both releases, with the same code, reloaded because a package they reach changed → those packages */
  reloads: Map<string, string[]>;
  /** why the package changes restart the node; empty when they upgrade hot */
  restart: string[];
  /** a release was built without package metadata: every package change restarts the node */
  withoutMetadata: boolean;
  /** modules loaded from the target release that reach an unchanged package with a native addon: a second copy of the addon is loaded */
  secondCopies: { module: string; package: string }[];
}

/** The name of the package at an install path: the part after the last `node_modules/`. */
export function packageName(installPath: string): string {
  const at = installPath.lastIndexOf("node_modules/");
  return at === -1 ? installPath : installPath.slice(at + "node_modules/".length);
}

export function diffPackages(from: Release, to: Release): PackageDiff {
  const before = from.release.npmDependencies;
  const after = to.release.npmDependencies;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compareStrings);
  const digests = { from: packageDigests(from.release), to: packageDigests(to.release) };
  const changed = keys.filter((k) => before[k] !== after[k] || digests.from.get(k) !== digests.to.get(k));
  const out: PackageDiff = { changes: [], reloads: new Map(), restart: [], withoutMetadata: false, secondCopies: [] };
  const missing = [from, to].filter((m) => m.release.npm === undefined || m.apps.some((a) => a.modules.some((mod) => mod.packages === undefined)));
  if (changed.length > 0 && missing.length > 0) {
    out.withoutMetadata = true;
    const names = missing.map((m) => `${m.release.name} ${m.release.version}`).join(" and ");
    out.restart.push(`npm packages change, and ${names} ${missing.length > 1 ? "were" : "was"} built without the package metadata hot upgrades need (by an earlier relup): this upgrade restarts the node; between releases built with this relup, package changes are hot`);
  }
  const closure = { from: closures(from), to: closures(to) };
  const reach = { from: reachByModule(from, closure.from), to: reachByModule(to, closure.to) };
  const direct = new Set([...(from.release.npm?.direct ?? []), ...(to.release.npm?.direct ?? [])]);
  const listedBy = (name: string) => [from, to].filter((m) => m.release.npm?.restart.includes(name)).map((m) => m.release.version);
  const listedWords = (listed: string[]) => `relup.config.json of ${listed.length > 1 ? "both releases lists" : `release ${listed[0]} lists`} it under npm.restart`;
  const changedSet = new Set(changed);

  for (const key of changed) {
    const name = packageName(key);
    const importers = [...new Set([...reach.from, ...reach.to].filter(([, pkgs]) => pkgs.has(key)).map(([m]) => m))].sort(compareStrings);
    const isDirect = key === name && direct.has(name);
    const via = isDirect ? [] : [...direct].filter((d) => d !== key && (closure.from(d).has(key) || closure.to(d).has(key))).sort(compareStrings);
    const native = before[key] !== undefined && after[key] !== undefined ? (to.release.npm?.packages[key]?.native ?? from.release.npm?.packages[key]?.native) : undefined;
    const listed = listedBy(name);
    const restart = listed.length > 0 ? listedWords(listed) : native;
    const change: PackageChange = {
      package: key,
      name,
      ...(before[key] !== undefined ? { from: before[key] } : {}),
      ...(after[key] !== undefined ? { to: after[key] } : {}),
      sameVersion: before[key] !== undefined && before[key] === after[key],
      direct: isDirect,
      via,
      importers,
      ...(restart !== undefined ? { restart } : {}),
    };
    out.changes.push(change);
    if (restart !== undefined) out.restart.push(`npm package \`${key}\` ${describeVersions(change)}: ${restart}`);
  }

  const code = { before: codeIndex(from), after: codeIndex(to) };
  for (const [ref, pkgs] of reach.to) {
    if (code.before.get(ref) !== code.after.get(ref)) continue;
    const reached = [...new Set([...pkgs, ...(reach.from.get(ref) ?? [])])].filter((k) => changedSet.has(k)).sort(compareStrings);
    if (reached.length > 0) out.reloads.set(ref, reached);
  }

  // A module the upgrade loads from the target release (new, changed, or reloaded for its packages)
  // requires its own instance of each package it reaches, beside the running release's instance of the
  // same package: a package listed under npm.restart cannot have two, so that restarts too; a package
  // with a native addon gets a second copy of its addon loaded, which the plan warns about.
  for (const [ref, pkgs] of reach.to) {
    if (code.before.get(ref) === code.after.get(ref) && !out.reloads.has(ref)) continue;
    for (const key of [...pkgs].sort(compareStrings)) {
      if (changedSet.has(key) || before[key] === undefined) continue;
      const listed = listedBy(packageName(key));
      if (listed.length > 0) out.restart.push(`\`${ref}\` is loaded from release ${to.release.version} and reaches npm package \`${key}\`, whose second instance beside the running one is not wanted: ${listedWords(listed)}`);
      else if (to.release.npm?.packages[key]?.native !== undefined) out.secondCopies.push({ module: ref, package: key });
    }
  }
  return out;
}

/** `changes 1.0.0 → 1.1.0`, `is added (1.0.0)`, `is removed (was 1.0.0)`, `keeps version 1.0.0 with other files`. */
export function describeVersions(c: Pick<PackageChange, "from" | "to" | "sameVersion">): string {
  if (c.from === undefined) return `is added (${c.to})`;
  if (c.to === undefined) return `is removed (was ${c.from})`;
  if (c.sameVersion) return `keeps version ${c.to} with other files`;
  return `changes ${c.from} → ${c.to}`;
}

/** Every module of the release (`app/module`) → the sha256 of its code. */
function codeIndex(model: Release): Map<string, string> {
  return new Map(model.apps.flatMap((a) => a.modules.map((m) => [`${a.name}/${m.name}`, m.sha256] as const)));
}

/**
 * Every module of the release → the packages it reaches (install paths under node_modules/). A module
 * requires packages by name: each resolves to the top-level copy, `node_modules/<name>`.
 */
function reachByModule(model: Release, closure: (key: string) => ReadonlySet<string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const app of model.apps) {
    for (const m of app.modules) out.set(`${app.name}/${m.name}`, new Set((m.packages ?? []).flatMap((name) => [...closure(name)])));
  }
  return out;
}

/** The package at a key and every package it depends on, at any depth, in this release; each computed once. */
function closures(model: Release): (key: string) => ReadonlySet<string> {
  const known = new Map<string, ReadonlySet<string>>();
  return (key) => {
    let seen = known.get(key);
    if (seen) return seen;
    const found = new Set<string>();
    const stack = [key];
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (found.has(k) || model.release.npmDependencies[k] === undefined) continue;
      found.add(k);
      stack.push(...(model.release.npm?.packages[k]?.dependencies ?? []));
    }
    known.set(key, (seen = found));
    return seen;
  };
}

/**
 * The sha256 of each package's own files in the release (its nested node_modules/ are packages of their
 * own), in one pass over the release's files: the node runs this on every install.
 */
function packageDigests(release: Release["release"]): Map<string, string> {
  const cached = digestCache.get(release);
  if (cached) return cached;
  const lines = new Map<string, string[]>();
  for (const [file, hash] of Object.entries(release.files)) {
    if (!file.startsWith("node_modules/")) continue;
    const key = packageOfFile(file);
    if (key === undefined || release.npmDependencies[key.key] === undefined) continue;
    let list = lines.get(key.key);
    if (!list) lines.set(key.key, (list = []));
    list.push(`${key.rest} ${hash}`);
  }
  const out = new Map<string, string>();
  for (const [key, list] of lines) out.set(key, sha256(list.sort(compareStrings).join("\n")));
  digestCache.set(release, out);
  return out;
}

const digestCache = new WeakMap<object, Map<string, string>>();

/** `node_modules/a/node_modules/@s/b/lib/x.js` → the package `a/node_modules/@s/b` and `lib/x.js` in it. */
function packageOfFile(file: string): { key: string; rest: string } | undefined {
  const parts = file.split("/");
  let at = 0;
  let end = -1;
  while (parts[at] === "node_modules" && at + 1 < parts.length) {
    end = parts[at + 1]!.startsWith("@") ? at + 3 : at + 2;
    at = end;
  }
  if (end === -1 || end >= parts.length) return undefined;
  return { key: parts.slice(1, end).join("/"), rest: parts.slice(end).join("/") };
}
