/**
 * The module table: the node's code server. It owns every release module the node runs.
 *
 * Each module (`app/module`) has one stable namespace object for the life of the node. Compiled code
 * requires other release modules as `relup:app/module` and gets that namespace; loading a new version
 * replaces the namespace's properties in place, so a caller that is not reloaded reaches the new code on
 * its next call through the namespace (a fully qualified call, in Erlang terms). A function copied out
 * of a namespace into a local variable stays bound to its version (a local call).
 *
 * As in OTP, a module has at most two versions: current and old. Loading makes current old; purge drops
 * old so it can be garbage collected. Loading while an old version exists is refused until it is purged.
 * Code is compiled with vm.compileFunction into a plain function: no ESM import() with cache-busting,
 * no vm.SourceTextModule, no require.cache (each of those keeps every version alive on Node 20).
 *
 * npm packages are Node's: a version read from a release directory requires them from that release's
 * `node_modules/`, and each version knows that directory. Whenever versions are dropped, the package
 * instances of directories no version refers to any more are released (package-cache.ts).
 */
import { createRequire } from "node:module";
import path from "node:path";
import vm from "node:vm";
import { MODULE_SPECIFIER_PREFIX } from "../release/names.ts";
import { WRAPPER_PARAMS } from "./wrapper-params.ts";
import { canonicalReleaseDir, evictUnusedPackages, packageRequire, readmitPackages, trackPackageUser, type PackageUser } from "./package-cache.ts";

/** Compiled but not yet run: what load_object_code produces. */
export interface ObjectCode {
  module: string;
  /** the file it was read from, for stack traces and for `require` of npm packages next to it */
  filename: string;
  vsn: string | number;
  sha256: string;
  /**
   * the release directory it was read from, whose `node_modules/` its npm packages resolve from (symlinks
   * resolved); absent for code that belongs to no release directory
   */
  releaseDir?: string;
  fn: (...args: unknown[]) => unknown;
}

/** What `compile` is told about the code besides its text. */
export interface CodeMeta {
  vsn: string | number;
  sha256: string;
  /** the release directory `filename` lies in: its package instances are released with its last version */
  releaseDir?: string;
  /** V8's code cache made from this very text (prepare-release.ts, in the release reader's thread) */
  cachedData?: Uint8Array;
}

export interface ModuleVersion {
  vsn: string | number;
  sha256: string;
  filename: string;
  exports: Record<string, unknown>;
  /** handlers running code of this version right now (a soft purge waits for none) */
  active: number;
  /** see ObjectCode */
  releaseDir?: string;
  /** the package modules of its release directory it required (put back in require.cache if it is restored) */
  packages?: ReadonlySet<NodeJS.Module>;
}

export interface ModuleSnapshot {
  module: string;
  existed: boolean;
  current: ModuleVersion | undefined;
  old: ModuleVersion | undefined;
}

interface Entry {
  namespace: Record<string, unknown>;
  current?: ModuleVersion;
  old?: ModuleVersion;
}

/** `name` as a module of the same application as `module` (`app/x`), unless already qualified. */
export function qualifyModule(module: string, name: string): string {
  return name.includes("/") ? name : `${module.slice(0, module.indexOf("/"))}/${name}`;
}

export class ModuleError extends Error {
  override readonly name = "ModuleError";
  constructor(
    message: string,
    readonly module: string,
  ) {
    super(message);
  }
}

export interface ModuleTableOptions {
  /** what `require("relup/runtime")` returns to `module` (each module gets an API bound to its application) */
  runtimeApi: (module: string) => unknown;
  /** loads a module that is required before it was loaded (boot order follows imports, like Node) */
  onMissing?: (module: string) => void;
}

/** A module whose code does not compile (here, or in the release reader's thread: the same words). */
export function notCompiling(module: string, message: string): ModuleError {
  return new ModuleError(`${module}: does not compile: ${message}`, module);
}

export class ModuleTable implements PackageUser {
  readonly #entries = new Map<string, Entry>();
  readonly #options: ModuleTableOptions;
  /** release directory → how many current and old versions resolve packages from it */
  readonly #releaseDirs = new Map<string, number>();

  constructor(options: ModuleTableOptions) {
    this.#options = options;
    trackPackageUser(this);
  }

  /** Compile without running: a syntax error is found here, before anything changes. */
  compile(module: string, code: string, filename: string, meta: CodeMeta): ObjectCode {
    try {
      const { releaseDir, cachedData, ...rest } = meta;
      const fn = vm.compileFunction(code, WRAPPER_PARAMS, { filename, ...(cachedData ? { cachedData } : {}) }) as (...args: unknown[]) => unknown;
      return { module, filename, fn, ...rest, ...(releaseDir === undefined ? {} : { releaseDir: canonicalReleaseDir(releaseDir) }) };
    } catch (error) {
      throw notCompiling(module, (error as Error).message);
    }
  }

  /**
   * Make `code` the current version of its module: run it, then replace the namespace's exports in
   * place. The previous current version becomes old. Refused while an old version exists.
   */
  load(code: ObjectCode): void {
    const entry = this.#entry(code.module);
    if (entry.old) throw new ModuleError(`${code.module}: an old version is still loaded; purge it before loading another`, code.module);
    const packages = new Set<NodeJS.Module>();
    let exports: Record<string, unknown>;
    // Its release directory is in use while its top level runs (a module it requires may fail to load meanwhile).
    this.#count(code, 1);
    try {
      exports = this.#run(code, packages);
    } catch (error) {
      // What its top level required before failing is referred to by nothing.
      this.#count(code, -1);
      evictUnusedPackages();
      throw error;
    }
    if (entry.current) entry.old = entry.current;
    entry.current = { vsn: code.vsn, sha256: code.sha256, filename: code.filename, exports, active: 0, ...(code.releaseDir === undefined ? {} : { releaseDir: code.releaseDir, packages }) };
    replaceExports(entry.namespace, exports);
  }

  /** Make the current version old and leave the module without current code (delete_module). */
  remove(module: string): void {
    const entry = this.#entries.get(module);
    if (!entry?.current) throw new ModuleError(`${module}: not loaded`, module);
    if (entry.old) throw new ModuleError(`${module}: an old version is still loaded; purge it before removing`, module);
    entry.old = entry.current;
    entry.current = undefined;
    replaceExports(entry.namespace, {});
  }

  /**
   * Drop the old version. Soft: refused while a handler is still running old code. Brutal: dropped
   * anyway; the caller decides what happens to such processes (the runtime ends them, as OTP kills them).
   * Returns whether there was an old version.
   */
  purge(module: string, mode: "soft" | "brutal"): boolean {
    const entry = this.#entries.get(module);
    if (!entry?.old) return false;
    if (mode === "soft" && entry.old.active > 0) {
      throw new ModuleError(`${module}: ${entry.old.active} handler(s) still run old code; a soft purge waits for them`, module);
    }
    this.#count(entry.old, -1);
    entry.old = undefined;
    if (!entry.current) this.#entries.delete(module);
    evictUnusedPackages();
    return true;
  }

  /** What an upgrade may change about a module, to put back exactly if the upgrade fails. */
  snapshot(module: string): ModuleSnapshot {
    const entry = this.#entries.get(module);
    return { module, existed: entry !== undefined, current: entry?.current, old: entry?.old };
  }

  restore(snapshot: ModuleSnapshot): void {
    if (!snapshot.existed && !this.#entries.has(snapshot.module)) return;
    const entry = this.#entry(snapshot.module);
    for (const version of [entry.current, entry.old]) this.#count(version, -1);
    for (const version of [snapshot.current, snapshot.old]) this.#count(version, 1);
    entry.current = snapshot.current;
    entry.old = snapshot.old;
    replaceExports(entry.namespace, snapshot.current?.exports ?? {});
    if (!snapshot.existed) this.#entries.delete(snapshot.module);
    for (const version of [snapshot.current, snapshot.old]) if (version?.releaseDir !== undefined && version.packages) readmitPackages(version.releaseDir, version.packages);
    evictUnusedPackages();
  }

  /** The release directories the current and old versions of every module resolve packages from. */
  releaseDirs(): Iterable<string> {
    return this.#releaseDirs.keys();
  }

  /**
   * The modules whose current version was read from release directory `dir`, or whose old version was and
   * still runs a handler. An idle old version is left to its purge: no code of it runs until then.
   */
  modulesReadFrom(dir: string): string[] {
    const canonical = canonicalReleaseDir(dir);
    return this.modules().filter((module) => {
      const { current, old } = this.#entries.get(module)!;
      return current?.releaseDir === canonical || (old?.releaseDir === canonical && old.active > 0);
    });
  }

  /** The one namespace object of a module; calls through it always reach the current version. */
  namespace(module: string): Record<string, unknown> {
    return this.#entry(module).namespace;
  }

  current(module: string): ModuleVersion | undefined {
    return this.#entries.get(module)?.current;
  }

  /**
   * The version a process whose callback module is `module` runs: the current one, or, once the module
   * is removed and until it is purged, the old one. As in OTP, such processes keep running the old code
   * (their calls are answered, their terminate can run) until a purge kills them.
   */
  running(module: string): ModuleVersion | undefined {
    const entry = this.#entries.get(module);
    return entry?.current ?? entry?.old;
  }

  /** The exports a process running `module` calls (see `running`); empty when there is no code at all. */
  callbacks(module: string): Record<string, unknown> {
    const entry = this.#entries.get(module);
    return entry?.current ? entry.namespace : (entry?.old?.exports ?? {});
  }

  /** Removed and not yet purged: no current version, an old one still loaded. */
  isRemoved(module: string): boolean {
    const entry = this.#entries.get(module);
    return entry !== undefined && entry.current === undefined && entry.old !== undefined;
  }

  old(module: string): ModuleVersion | undefined {
    return this.#entries.get(module)?.old;
  }

  isLoaded(module: string): boolean {
    return this.#entries.get(module)?.current !== undefined;
  }

  modules(): string[] {
    return [...this.#entries.keys()].sort();
  }

  #count(version: { releaseDir?: string } | undefined, delta: 1 | -1): void {
    const dir = version?.releaseDir;
    if (dir === undefined) return;
    const n = (this.#releaseDirs.get(dir) ?? 0) + delta;
    if (n > 0) this.#releaseDirs.set(dir, n);
    else this.#releaseDirs.delete(dir);
  }

  #entry(module: string): Entry {
    let entry = this.#entries.get(module);
    if (!entry) {
      const namespace: Record<string, unknown> = {};
      // Marks the namespace as compiled ES module exports, so esbuild's interop uses it as it is.
      Object.defineProperty(namespace, "__esModule", { value: true });
      entry = { namespace };
      this.#entries.set(module, entry);
    }
    return entry;
  }

  #run(code: ObjectCode, packages: Set<NodeJS.Module>): Record<string, unknown> {
    const mod = { exports: {} as Record<string, unknown> };
    const nodeRequire = code.releaseDir === undefined ? createRequire(code.filename) : packageRequire(code.filename, code.releaseDir, packages);
    const require = (spec: string): unknown => {
      if (spec.startsWith(MODULE_SPECIFIER_PREFIX)) {
        const ref = spec.slice(MODULE_SPECIFIER_PREFIX.length);
        if (!this.isLoaded(ref)) this.#options.onMissing?.(ref);
        return this.namespace(ref);
      }
      if (spec === "relup/runtime" || spec === "relup") return this.#options.runtimeApi(code.module);
      return nodeRequire(spec);
    };
    // Node's `require.resolve` (with its `paths`): where a package resolves from this file. A release
    // module's specifier (and relup's own) is not a file: it resolves to itself.
    const own = (spec: string) => spec.startsWith(MODULE_SPECIFIER_PREFIX) || spec === "relup/runtime" || spec === "relup";
    const resolve = (spec: string, options?: { paths?: string[] }) => (own(spec) ? spec : nodeRequire.resolve(spec, options));
    require.resolve = Object.assign(resolve, { paths: (spec: string) => (own(spec) ? null : nodeRequire.resolve.paths(spec)) });
    try {
      code.fn.call(mod.exports, mod.exports, require, mod, code.filename, path.dirname(code.filename));
    } catch (error) {
      throw new ModuleError(`${code.module}: failed while loading: ${(error as Error).message}`, code.module);
    }
    return mod.exports;
  }
}

/**
 * Replace the properties of `namespace` with the values of `exports`, keeping the object itself.
 *
 * The namespace must keep V8's fast properties: deleting any property but the last one added turns an
 * object into a hash table for good, and every call through it then costs 1.5-2x. V8 undoes the last
 * property addition when that property is deleted, so the keys after the longest prefix the two
 * versions share (in order) are deleted from the last one back, and the new version's keys are then
 * added in its order. A version that exports the same names in the same order only assigns values.
 */
function replaceExports(namespace: Record<string, unknown>, exports: Record<string, unknown>): void {
  const present = Object.keys(namespace);
  const next = Object.keys(exports).filter((key) => key !== "__esModule");
  let shared = 0;
  while (shared < present.length && present[shared] === next[shared]) shared++;
  for (let i = present.length - 1; i >= shared; i--) delete namespace[present[i]!];
  for (const key of next) namespace[key] = exports[key];
}
