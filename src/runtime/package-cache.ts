/**
 * npm package code and release directories: when the code of an old package version is released.
 *
 * A release module is compiled from `<release>/lib/<app>-<vsn>/<module>.js` and requires npm packages
 * through Node's own `require` made for that file, so they resolve from `<release>/node_modules/`. Node
 * caches a package module by its absolute (real) path: each release directory has its own instance of
 * each package, and two versions of a package run side by side while modules of both releases are loaded.
 * Node never forgets one, though: require.cache keeps every instance of every release directory alive for
 * the life of the process.
 *
 * The module table tells this module which release directories its versions (current and old) refer to.
 * After a version is dropped (purge, a restore that replaces versions, a load that failed), every
 * release directory that no version of any live module table refers to any more is evicted: the entries
 * of require.cache under `<dir>/node_modules/` are deleted, so that once the dropped versions' closures
 * are gone the package instances are garbage. A directory still referred to is never evicted. What else
 * held an evicted instance is handled here too:
 *   - a surviving cached module's `children` list (it required an evicted one) is pruned;
 *   - a surviving module's `parent` (Node keeps it, for `module.parent`, as long as the child lives) that
 *     is an evicted module is cleared: a package above the release (a `node_modules` of a parent
 *     directory) first required by one of the release's packages would otherwise keep that one alive;
 *   - Module._pathCache entries resolving into the directory are dropped (strings only, kept tidy).
 * The fake parent module `createRequire` makes for a release module, and its `children`, are reachable
 * only from that version's `require`, so they go with it. Source maps (--enable-source-maps) are held
 * weakly by Node. Node's relative-resolve cache (internal; strings only) keeps a few path strings.
 * Native addons (`.node`) stay cached: their code cannot be unloaded, and loading one again would fail.
 * Nothing can release what a package itself registered elsewhere: its timers, `process` listeners,
 * globals; those keep its instance alive as they would in any Node process.
 *
 * A restore that brings back a version whose directory was evicted (a rollback after a purge) puts the
 * package modules that version required back into require.cache, unless another instance of the same
 * file was loaded since: a lazy `require` in the restored code then gets the instance it had before.
 */
import { realpathSync } from "node:fs";
import Module, { createRequire, isBuiltin } from "node:module";
import path from "node:path";

type CachedModule = NodeJS.Module;

/** Whatever holds module versions: the release directories they resolve packages from. */
export interface PackageUser {
  releaseDirs(): Iterable<string>;
}

const cache = createRequire(import.meta.url).cache;
const users = new Set<WeakRef<PackageUser>>();
/** canonical release directories whose packages may be in require.cache */
const inCache = new Set<string>();

/** The directory as require.cache keys name files under it (symlinks resolved, as Node resolves them). */
export function canonicalReleaseDir(dir: string): string {
  try {
    return realpathSync.native(dir);
  } catch {
    return path.resolve(dir);
  }
}

/** Count `user`'s release directories as referenced for as long as it lives. */
export function trackPackageUser(user: PackageUser): void {
  users.add(new WeakRef(user));
}

/**
 * Node's `require` for release code in `filename` of (canonical) `releaseDir`: it also records, in
 * `packages`, each package module it returns from the release's node_modules, the first time.
 */
export function packageRequire(filename: string, releaseDir: string, packages: Set<CachedModule>): NodeJS.Require {
  const nodeRequire = createRequire(filename);
  const prefix = packagesPrefix(releaseDir);
  const seen = new Set<string>();
  inCache.add(releaseDir);
  const require = (spec: string): unknown => {
    const exports: unknown = nodeRequire(spec);
    if (!seen.has(spec) && !isBuiltin(spec)) {
      seen.add(spec);
      const file = nodeRequire.resolve(spec);
      const mod = cache[file];
      if (mod && file.startsWith(prefix)) packages.add(mod);
    }
    return exports;
  };
  return Object.assign(require, { resolve: nodeRequire.resolve, cache: nodeRequire.cache, main: nodeRequire.main, extensions: nodeRequire.extensions });
}

/** After a restore: put back the package modules `packages` (and what they required from the same release) that were evicted. */
export function readmitPackages(releaseDir: string, packages: Iterable<CachedModule>): void {
  const prefix = packagesPrefix(releaseDir);
  const visit = (mod: CachedModule): void => {
    if (!mod.id.startsWith(prefix) || cache[mod.id] !== undefined) return;
    cache[mod.id] = mod;
    mod.children.forEach(visit);
  };
  for (const mod of packages) visit(mod);
  inCache.add(releaseDir);
}

/** Evict every release directory no live user refers to any more; returns them. */
export function evictUnusedPackages(): string[] {
  if (inCache.size === 0) return [];
  const used = new Set<string>();
  for (const ref of users) {
    const user = ref.deref();
    if (user) for (const dir of user.releaseDirs()) used.add(dir);
    else users.delete(ref);
  }
  // An evicted directory stays known: an object of its packages still held somewhere may require a file
  // of its package again (a lazy require), which puts that file back in the cache; the next eviction
  // takes it out again.
  const evicted = [...inCache].filter((dir) => !used.has(dir));
  if (evicted.length > 0) evict(evicted.map(packagesPrefix));
  return evicted;
}

function packagesPrefix(releaseDir: string): string {
  return path.join(releaseDir, "node_modules") + path.sep;
}

function evict(prefixes: readonly string[]): void {
  const gone = new Set<CachedModule>();
  const under = (file: string) => prefixes.some((prefix) => file.startsWith(prefix));
  for (const [file, mod] of Object.entries(cache)) {
    if (!mod || !under(file) || file.endsWith(".node")) continue;
    gone.add(mod);
    delete cache[file];
  }
  if (gone.size === 0) return;
  for (const mod of Object.values(cache)) {
    if (!mod) continue;
    if (mod.children.some((child) => gone.has(child))) mod.children = mod.children.filter((child) => !gone.has(child));
    // `parent` is deprecated, but it is the only handle on the link Node keeps from a child to its parent
    if (mod.parent && gone.has(mod.parent)) mod.parent = undefined;
  }
  const pathCache = (Module as unknown as { _pathCache?: Record<string, string> })._pathCache;
  if (pathCache) for (const [key, file] of Object.entries(pathCache)) if (under(file)) delete pathCache[key];
}
