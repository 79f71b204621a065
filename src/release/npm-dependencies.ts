/**
 * The production npm packages a release ships in its `node_modules/`: the project's package.json
 * `dependencies` and everything they depend on (`dependencies`, and installed `optionalDependencies` and
 * `peerDependencies`),
 * resolved as Node does, from where each package is installed.
 *
 * Layout: each package goes to `node_modules/<name>`; when another version already holds that place,
 * it nests under the package that needs it (`node_modules/a/node_modules/<name>`), as npm does.
 * Files are copied, never linked, and a package's own `node_modules/` is not copied (its dependencies are
 * placed by this walk).
 *
 * relup itself is never shipped, wherever it appears in the graph: the node provides `relup/runtime` to
 * release code (module-table.ts), and the package's CLI, compiler and tests have no place in a release.
 * What only relup depends on is therefore not shipped either.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import semver from "semver";
import { compareStrings } from "./fs-utils.ts";
import { ReleaseError } from "./issues.ts";
import { childScope, overrideRule, rootOverrideScope, type OverrideScope } from "./npm-overrides.ts";

export interface NpmPackage {
  name: string;
  version: string;
  /** where it goes in the release: `node_modules/<name>` or nested */
  installPath: string;
  /** where it is installed now */
  sourceDir: string;
  /** the names of the packages it requires (`dependencies`, and `optionalDependencies` and `peerDependencies` that are installed) */
  requires: string[];
  /** package.json `gypfile`: it builds a native addon */
  gypfile: boolean;
}

/** The package the node provides to release code, never copied into a release. */
export const PROVIDED_BY_NODE = "relup";

interface PackageJson {
  name?: string;
  version?: string;
  gypfile?: unknown;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** `direct`: the project's dependencies, name → the range package.json asks for; `overrides`: its npm `overrides`. */
export async function collectNpmDependencies(projectDir: string, direct: Readonly<Record<string, string>>, overrides: unknown): Promise<NpmPackage[]> {
  const placed = new Map<string, NpmPackage>();
  type Need = { name: string; fromDir: string; parentInstall: string; optional: boolean; requiredBy: string; range?: string; scope: OverrideScope };
  const root = rootOverrideScope(projectDir, overrides);
  let queue: Need[] = Object.keys(direct).filter((name) => name !== PROVIDED_BY_NODE).map((name) => ({ name, fromDir: projectDir, parentInstall: "", optional: false, requiredBy: "package.json", scope: root }));

  while (queue.length > 0) {
    const next: Need[] = [];
    for (const need of [...queue].sort((a, b) => compareStrings(a.parentInstall + "\0" + a.name, b.parentInstall + "\0" + b.name))) {
      const sourceDir = findInstalled(need.name, need.fromDir);
      if (!sourceDir) {
        if (need.optional) continue;
        throw new ReleaseError([{ code: "build-failed", file: need.requiredBy, field: `dependencies.${need.name}`, detail: `package ${JSON.stringify(need.name)} is not installed`, fix: "run `npm install` in the project before `relup build`" }]);
      }
      const real = await realpath(sourceDir);
      const pkg = JSON.parse(await readFile(path.join(real, "package.json"), "utf8")) as PackageJson;
      const version = pkg.version ?? "0.0.0";
      const wanted = need.parentInstall === "" ? direct[need.name] : undefined;
      if (wanted !== undefined && semver.validRange(wanted) !== null && !semver.satisfies(version, wanted, { includePrerelease: true })) {
        throw new ReleaseError([{ code: "build-failed", file: path.join(projectDir, "package.json"), field: `dependencies.${need.name}`, detail: `asks for ${wanted}, but ${need.name} ${version} is installed (${path.relative(projectDir, sourceDir) || sourceDir})`, fix: "run `npm install` in the project, so the installed version is the one package.json asks for" }]);
      }
      // A dependency of a package: the range its package asks for, or the project's override of it.
      if (need.parentInstall !== "") {
        const override = overrideRule(need.scope, need.name, need.range, direct);
        const range = override === undefined ? need.range : override === "unknown" ? undefined : override.range;
        if (range !== undefined && semver.validRange(range) !== null && !semver.satisfies(version, range, { includePrerelease: true })) {
          const [file, field] = override === undefined || override === "unknown" ? [need.requiredBy, `dependencies.${need.name}`] : [path.join(projectDir, "package.json"), override.field];
          throw new ReleaseError([{ code: "build-failed", file, field, detail: `asks for ${range}, but ${need.name} ${version} is installed (${path.relative(projectDir, sourceDir) || sourceDir})`, fix: "run `npm install` in the project, so the installed packages are the ones package.json and its lock file ask for" }]);
        }
      }
      const top = `node_modules/${need.name}`;
      const existing = placed.get(top);
      let installPath: string;
      if (!existing) installPath = top;
      else if (existing.version === version) continue;
      else installPath = `${need.parentInstall}/node_modules/${need.name}`;
      if (placed.has(installPath)) continue;
      // Peer dependencies are the host's copy, resolved from the package's place as any other: shipped and
      // counted when installed (npm installs them), left to the host when not.
      const deps = [
        ...Object.keys(pkg.dependencies ?? {}).map((name) => ({ name, optional: false, range: pkg.dependencies![name] })),
        ...Object.keys(pkg.optionalDependencies ?? {}).map((name) => ({ name, optional: true, range: pkg.optionalDependencies![name] })),
        ...Object.keys(pkg.peerDependencies ?? {}).map((name) => ({ name, optional: true, range: undefined })),
      ].filter((d) => d.name !== PROVIDED_BY_NODE);
      const requires = deps.filter((d) => !d.optional || findInstalled(d.name, real) !== undefined).map((d) => d.name);
      placed.set(installPath, { name: need.name, version, installPath, sourceDir: real, requires: [...new Set(requires)].sort(compareStrings), gypfile: pkg.gypfile === true });
      const scope = childScope(need.scope, need.name, version);
      for (const dep of deps) {
        next.push({ name: dep.name, optional: dep.optional, fromDir: real, parentInstall: installPath, requiredBy: path.join(real, "package.json"), scope, ...(dep.range !== undefined ? { range: dep.range } : {}) });
      }
    }
    queue = next;
  }
  return [...placed.values()].sort((a, b) => compareStrings(a.installPath, b.installPath));
}

/** Node's lookup: `<dir>/node_modules/<name>` from `fromDir` up to the root. */
function findInstalled(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Files of an installed package, relative to it, without its node_modules; symlinks are followed. */
export async function listPackageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  async function walk(abs: string, rel: string): Promise<void> {
    const real = await realpath(abs);
    if (seen.has(real)) return;
    seen.add(real);
    for (const name of (await readdir(abs)).sort(compareStrings)) {
      if (rel === "" && name === "node_modules") continue;
      const child = path.join(abs, name);
      const info = await stat(child).catch(() => undefined);
      if (!info) continue;
      const childRel = rel ? `${rel}/${name}` : name;
      if (info.isDirectory()) await walk(child, childRel);
      else if (info.isFile()) out.push(childRel);
    }
  }
  await walk(dir, "");
  return out;
}

/**
 * Where each of `pkg`'s requires resolves in the release: Node's lookup from the package's place
 * (`a/node_modules/b` looks in `a/node_modules/b/node_modules`, then `a/node_modules`, then `node_modules`),
 * over the packages placed in the release. Returns install paths without the leading `node_modules/`.
 */
export function resolvedDependencies(pkg: NpmPackage, placed: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const name of pkg.requires) {
    for (let base = pkg.installPath; ; ) {
      const candidate = `${base}/node_modules/${name}`;
      if (placed.has(candidate)) {
        out.add(candidate.slice("node_modules/".length));
        break;
      }
      const up = base.lastIndexOf("/node_modules/");
      if (up === -1) {
        if (placed.has(`node_modules/${name}`)) out.add(name);
        break;
      }
      base = base.slice(0, up);
    }
  }
  return [...out].sort(compareStrings);
}

/**
 * Why a package cannot be reloaded in place, if it has a native addon: a compiled `.node` file, a
 * `binding.gyp`, or `gypfile` in its package.json. A process cannot load two versions of an addon.
 */
export function nativeAddon(pkg: NpmPackage, files: readonly string[]): string | undefined {
  const compiled = files.find((f) => f.endsWith(".node"));
  if (compiled) return `it ships the native addon ${compiled}`;
  if (files.includes("binding.gyp")) return "it builds a native addon (binding.gyp)";
  if (pkg.gypfile) return "it builds a native addon (package.json `gypfile`)";
  return undefined;
}
