/**
 * npm package code in the module table: each release directory's packages are their own instances, and
 * an instance is released (out of require.cache, then garbage collected) once no module version refers
 * to its release directory any more. Real release-like directories on disk, real packages, a forced GC.
 */
import { mkdir, realpath, symlink, writeFile } from "node:fs/promises";
import Module, { createRequire } from "node:module";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import type { AppFile } from "../../src/release/app-file.ts";
import { ModuleTable } from "../../src/runtime/module-table.ts";
import { readObjectCode } from "../../src/runtime/node.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
const cache = createRequire(import.meta.url).cache;
const tempDir = useTempDirs();

/** What a release module does with a package: requires it at its top level, and again lazily. */
const MODULE = `
const pad = require("leftpad");
exports.pkgVersion = () => pad.version;
exports.pkg = () => pad;
exports.later = () => require("leftpad");
`;

/** `<root>/releases/<version>/` with lib/a-1/m.js and node_modules/leftpad at `pkgVersion`; returns its real path. */
async function release(root: string, version: string, pkgVersion: string, pkgBody = ""): Promise<string> {
  const dir = path.join(root, "releases", version);
  const pkg = path.join(dir, "node_modules", "leftpad");
  await mkdir(path.join(dir, "lib", "a-1"), { recursive: true });
  await mkdir(pkg, { recursive: true });
  await writeFile(path.join(dir, "lib", "a-1", "m.js"), MODULE);
  await writeFile(path.join(pkg, "package.json"), JSON.stringify({ name: "leftpad", version: pkgVersion, main: "index.js" }));
  await writeFile(path.join(pkg, "helper.js"), "exports.twice = (x) => x * 2;\n");
  await writeFile(
    path.join(pkg, "index.js"),
    `exports.version = ${JSON.stringify(pkgVersion)};\nexports.helper = require("./helper.js");\nexports.data = new Array(10000).fill(0).map((_, i) => ({ i }));\n${pkgBody}`,
  );
  return realpath(dir);
}

let vsn = 0;
function table() {
  const t = new ModuleTable({ runtimeApi: () => ({}) });
  const load = (module: string, dir: string, code = MODULE) => t.load(t.compile(module, code, path.join(dir, "lib", "a-1", `${module.slice(2)}.js`), { vsn: ++vsn, sha256: String(vsn), releaseDir: dir }));
  return { t, load };
}

/** The files of `dir`'s node_modules that require.cache holds. */
const cached = (dir: string) => Object.keys(cache).filter((key) => key.startsWith(path.join(dir, "node_modules") + path.sep));
const entryFile = (dir: string) => path.join(dir, "node_modules", "leftpad", "index.js");

/** A weak reference to the exports of `dir`'s leftpad, made where no strong reference outlives it. */
function weakExports(dir: string): WeakRef<object> {
  return new WeakRef(cache[entryFile(dir)]!.exports as object);
}

/** Forces garbage collection until `ref` is cleared, a bounded number of times (each after a turn of the event loop, which a WeakRef target is kept alive for). */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 30 && ref.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return ref.deref() === undefined;
}

describe("package instances and release directories", () => {
  it("a package of a release directory no module version refers to any more leaves require.cache and is collected; the new release's stays", async () => {
    const root = await tempDir();
    const a = await release(root, "1.0.0", "1.0.0");
    const b = await release(root, "2.0.0", "2.0.0");
    const { t, load } = table();
    load("a/m", a);
    const weakA = weakExports(a);
    load("a/m", b);
    expect((t.namespace("a/m").pkgVersion as () => string)()).toBe("2.0.0");
    expect(cached(a)).toHaveLength(2);
    expect(cached(b)).toHaveLength(2);

    t.purge("a/m", "brutal");
    expect(cached(a)).toEqual([]);
    expect(cached(b).sort()).toEqual([path.join(b, "node_modules/leftpad/helper.js"), entryFile(b)]);
    expect(await collected(weakA)).toBe(true);
    expect((t.namespace("a/m").pkgVersion as () => string)()).toBe("2.0.0");
  });

  it("a module still running from the old release (another module, not reloaded) keeps its package alive, the same instance, until it goes too", async () => {
    const root = await tempDir();
    const a = await release(root, "1.0.0", "1.0.0");
    const b = await release(root, "2.0.0", "2.0.0");
    const { t, load } = table();
    load("a/m", a);
    load("a/other", a);
    load("a/m", b);
    t.purge("a/m", "brutal");
    expect(cached(a)).toHaveLength(2);
    const other = t.namespace("a/other") as { pkgVersion: () => string; pkg: () => object; later: () => object };
    expect(other.pkgVersion()).toBe("1.0.0");
    expect(other.later() === other.pkg()).toBe(true);
    expect(cache[entryFile(a)]!.exports === other.pkg()).toBe(true);

    const weakA = weakExports(a);
    t.remove("a/other");
    expect(cached(a)).toHaveLength(2); // removed but not purged: the old version still runs
    t.purge("a/other", "brutal");
    expect(cached(a)).toEqual([]);
    expect(await collected(weakA)).toBe(true);
  });

  it("a package outside the release (a node_modules above it) first required by the release's package does not keep the release's instance alive", async () => {
    const root = await tempDir();
    await mkdir(path.join(root, "node_modules", "shared"), { recursive: true });
    await writeFile(path.join(root, "node_modules", "shared", "index.js"), "exports.seen = [];\n");
    const a = await release(root, "1.0.0", "1.0.0", `require("shared").seen.push(exports.version);\n`);
    const b = await release(root, "2.0.0", "2.0.0", `require("shared").seen.push(exports.version);\n`);
    const { t, load } = table();
    load("a/m", a);
    const weakA = weakExports(a);
    load("a/m", b);
    t.purge("a/m", "brutal");
    const shared = cache[path.join(await realpath(root), "node_modules", "shared", "index.js")];
    expect(shared?.exports).toEqual({ seen: ["1.0.0", "2.0.0"] });
    expect(cached(a)).toEqual([]);
    expect(await collected(weakA)).toBe(true);
    delete cache[shared!.id];
  });

  it("a rollback that brings back a purged version puts its package instances back; the new release's go once nothing refers to them", async () => {
    const root = await tempDir();
    const a = await release(root, "1.0.0", "1.0.0");
    const b = await release(root, "2.0.0", "2.0.0");
    const { t, load } = table();
    load("a/m", a);
    const beforeLoad = t.snapshot("a/m");
    load("a/m", b);
    const beforePurge = t.snapshot("a/m");
    t.purge("a/m", "brutal");
    expect(cached(a)).toEqual([]);

    t.restore(beforePurge);
    const old = t.old("a/m")!.exports as { pkg: () => object; later: () => object };
    expect(cached(a)).toHaveLength(2);
    expect(old.later() === old.pkg()).toBe(true);

    t.restore(beforeLoad);
    expect((t.namespace("a/m").pkgVersion as () => string)()).toBe("1.0.0");
    expect(cached(b)).toEqual([]);
    expect(cached(a)).toHaveLength(2);
  });

  it("a module whose top level throws leaves no package instance of its release behind", async () => {
    const root = await tempDir();
    const a = await release(root, "1.0.0", "1.0.0");
    const b = await release(root, "2.0.0", "2.0.0");
    const { t, load } = table();
    load("a/m", a);
    expect(() => load("a/m", b, `${MODULE}\nthrow new Error("boom");`)).toThrow(/failed while loading: boom/);
    expect(cached(b)).toEqual([]);
    expect(cached(a)).toHaveLength(2);
    expect(t.current("a/m")?.releaseDir).toBe(a);
  });

  it("a module that another module's top level requires, and that fails to load, does not evict the packages the first one is loading with", async () => {
    const root = await tempDir();
    const a = await release(root, "1.0.0", "1.0.0");
    const t: ModuleTable = new ModuleTable({
      runtimeApi: () => ({}),
      onMissing: (module) => t.load(t.compile(module, `throw new Error("broken");`, path.join(a, "lib", "a-1", "broken.js"), { vsn: 1, sha256: "1", releaseDir: a })),
    });
    const code = `${MODULE}\ntry { require("relup:a/broken"); } catch {}\nexports.afterwards = () => require("leftpad") === pad;`;
    t.load(t.compile("a/m", code, path.join(a, "lib", "a-1", "m.js"), { vsn: 1, sha256: "1", releaseDir: a }));
    expect(cached(a)).toHaveLength(2);
    expect((t.namespace("a/m").afterwards as () => boolean)()).toBe(true);
  });

  it("a release directory another module table of the process still uses is not evicted", async () => {
    const root = await tempDir();
    const a = await release(root, "1.0.0", "1.0.0");
    const b = await release(root, "2.0.0", "2.0.0");
    const first = table();
    const second = table();
    first.load("a/m", a);
    second.load("a/m", a);
    second.load("a/m", b);
    second.t.purge("a/m", "brutal");
    expect(cached(a)).toHaveLength(2);
    first.t.remove("a/m");
    first.t.purge("a/m", "brutal");
    expect(cached(a)).toEqual([]);
  });

  it("load_object_code from a release directory reached through a symlink: the version knows the real directory, whose packages its purge releases", async () => {
    const root = await tempDir();
    const a = await release(root, "1.0.0", "1.0.0");
    const b = await release(root, "2.0.0", "2.0.0");
    await symlink(a, path.join(root, "current"));
    const app: AppFile = { format: 1, name: "a", version: "1", applications: [], env: {}, modules: [{ name: "m", sha256: "0".repeat(64), vsn: 1, vsnDeclared: false, behaviour: null, imports: [], exports: ["pkgVersion", "pkg", "later"], mutableState: [] }] };
    const { t } = table();
    const code = readObjectCode(t, path.join(root, "current"), [app], "a/m");
    expect(code.releaseDir).toBe(a);
    t.load(code);
    expect(t.current("a/m")?.releaseDir).toBe(a);
    expect(cached(a)).toHaveLength(2);
    t.load(readObjectCode(t, b, [app], "a/m"));
    t.purge("a/m", "brutal");
    expect(cached(a)).toEqual([]);
    expect((t.namespace("a/m").pkgVersion as () => string)()).toBe("2.0.0");
  });

  it("a native addon stays in require.cache: its code cannot be unloaded, and loading it again would fail", async () => {
    const root = await tempDir();
    const a = await release(root, "1.0.0", "1.0.0");
    const b = await release(root, "2.0.0", "2.0.0");
    const addon = path.join(a, "node_modules", "native", "build", "Release", "native.node");
    cache[addon] = Object.assign(new Module(addon), { filename: addon, loaded: true });
    const { t, load } = table();
    load("a/m", a);
    load("a/m", b);
    t.purge("a/m", "brutal");
    expect(cached(a)).toEqual([addon]);
    delete cache[addon];
  });
});

describe("require in release code", () => {
  it("require.resolve and require.resolve.paths answer as Node's, from the module's release; release modules and relup resolve to themselves", async () => {
    const root = await tempDir();
    const a = await release(root, "1.0.0", "1.0.0");
    const { t, load } = table();
    const code = `exports.where = require.resolve("leftpad");\nexports.paths = require.resolve.paths("leftpad");\nexports.own = [require.resolve("relup:a/other"), require.resolve("relup/runtime")];`;
    load("a/r", a, code);
    const ns = t.namespace("a/r");
    expect(ns.where).toBe(entryFile(a));
    expect(ns.paths).toContain(path.join(a, "node_modules"));
    expect(ns.own).toEqual(["relup:a/other", "relup/runtime"]);
    expect(() => load("a/s", a, `require.resolve("not-installed-anywhere")`)).toThrow(/Cannot find module 'not-installed-anywhere'/);
  });
});
