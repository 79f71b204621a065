import { cp, readFile, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildRelease } from "../src/release/build-release.ts";
import { buildRelease as buildWithPlans } from "../src/relup/build-with-plans.ts";
import { ReleaseError } from "../src/release/issues.ts";
import { readRelease } from "../src/release/read-release.ts";
import { oneAppConfig, writeProject } from "./helpers/project.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();

async function buildFails(dir: string, out: string): Promise<ReleaseError> {
  const error = await buildRelease({ dir, out }).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ReleaseError);
  expect(await readdir(out).catch(() => [])).toEqual([]);
  return error as ReleaseError;
}

describe("relup build", () => {
  it("writes <name>-<version>/ and <name>-<version>.tar.gz, and the tarball reads back to the same release", async () => {
    const out = await tempDir();
    const built = await buildRelease({ dir: "fixtures/calculator/1.0.0", out });
    expect((await readdir(out)).sort()).toEqual(["calculator-1.0.0", "calculator-1.0.0.tar.gz"]);
    expect(Object.keys(built.release.files)).toEqual([
      "lib/calculator-1.0.0/app.js",
      "lib/calculator-1.0.0/app.js.map",
      "lib/calculator-1.0.0/app.json",
      "lib/calculator-1.0.0/calculator.js",
      "lib/calculator-1.0.0/calculator.js.map",
      "lib/calculator-1.0.0/http_server.js",
      "lib/calculator-1.0.0/http_server.js.map",
      "lib/calculator-1.0.0/router.js",
      "lib/calculator-1.0.0/router.js.map",
      "lib/calculator-1.0.0/sup.js",
      "lib/calculator-1.0.0/sup.js.map",
    ]);
    const loaded = await readRelease(built.tarball);
    expect(loaded.release).toEqual(built.release);
    expect(loaded.apps).toEqual(built.apps);
    await loaded.close();
  });

  it("is reproducible: two builds, from two copies of the project in different places, give byte-identical tarballs", async () => {
    const copy = path.join(await tempDir(), "elsewhere", "calculator");
    await cp("fixtures/calculator/1.0.0", copy, { recursive: true });
    const a = await buildRelease({ dir: "fixtures/calculator/1.0.0", out: await tempDir() });
    const b = await buildRelease({ dir: copy, out: await tempDir() });
    expect(await readFile(b.tarball)).toEqual(await readFile(a.tarball));
  });

  it("compiles each module to its own CommonJS file: release imports become `relup:app/module`, never bundled", async () => {
    const built = await buildRelease({ dir: "fixtures/calculator/1.0.0", out: await tempDir() });
    const router = await readFile(path.join(built.releaseDir, "lib/calculator-1.0.0/router.js"), "utf8");
    expect(router).toContain('require("relup:calculator/calculator")');
    expect(router).not.toContain("function add(");
    expect(router).toContain("//# sourceMappingURL=router.js.map");
    const map = JSON.parse(await readFile(path.join(built.releaseDir, "lib/calculator-1.0.0/router.js.map"), "utf8"));
    expect(map.sources).toEqual(["../../apps/calculator/router.ts"]);
    expect(map.sourcesContent[0]).toContain("calculator.add(");
  });

  it("refuses a dynamic import(), of a release module or a package, naming the file, the line and the fix: the node could not run it", async () => {
    const dir = await writeProject(await tempDir(), {
      files: {
        "apps/demo/a.ts": `export async function load() {\n  const b = await import("./b");\n  const p = await import("node:path");\n  return [b.value, p.sep];\n}`,
        "apps/demo/b.ts": "export const value = 1;",
      },
    });
    const out = await tempDir();
    const error = await buildRelease({ dir, out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as Error).message).toMatch(/a\.ts:2:\d+: import\("\.\/b"\) cannot run in a release module: the node loads modules without dynamic import; import it statically/);
    expect((error as Error).message).toMatch(/a\.ts:3:\d+: import\("node:path"\) cannot run in a release module/);
    expect(await readdir(out)).toEqual([]);
  });

  it("ships production npm dependencies, with their own dependencies, in node_modules/", async () => {
    const dir = await writeProject(await tempDir(), {
      files: {
        "package.json": { name: "p", private: true, dependencies: { left: "1.0.0" } },
        "node_modules/left/package.json": { name: "left", version: "1.0.0", main: "index.js", dependencies: { right: "^2.0.0" } },
        "node_modules/left/index.js": "module.exports = require('right');",
        "node_modules/right/package.json": { name: "right", version: "2.1.0" },
        "node_modules/right/index.js": "module.exports = 1;",
        "node_modules/unused/package.json": { name: "unused", version: "9.9.9" },
        "apps/demo/main.ts": `import left from "left";\nexport const value = left;`,
      },
    });
    const built = await buildRelease({ dir, out: await tempDir() });
    expect(built.release.npmDependencies).toEqual({ left: "1.0.0", right: "2.1.0" });
    expect(Object.keys(built.release.files).filter((f) => f.startsWith("node_modules/"))).toEqual([
      "node_modules/left/index.js",
      "node_modules/left/package.json",
      "node_modules/right/index.js",
      "node_modules/right/package.json",
    ]);
  });

  it("records cross-application imports, and ships a hand-written appup.json and the committed plans that lead to this version", async () => {
    const dir = await writeProject(await tempDir(), {
      config: {
        format: 1,
        name: "two",
        version: "2.0.0",
        applications: [
          { name: "core", version: "1.0.0" },
          { name: "web", version: "1.1.0", applications: ["core"] },
        ],
      },
      files: {
        "apps/core/db.ts": "export function get() { return 1 }",
        "apps/web/page.ts": `import * as db from "../core/db";\nexport function render() { return db.get() }`,
        "apps/web/appup.json": { format: 1 },
        "plans/1.0.0-2.0.0.json": { format: 1 },
        "plans/1.5.0-2.0.0.json": { format: 1 },
        "plans/1.0.0-1.5.0.json": { format: 1 },
        "plans/notes.txt": "not a plan",
      },
    });
    const built = await buildRelease({ dir, out: await tempDir() });
    expect(built.apps[1]!.modules[0]).toMatchObject({ name: "page", imports: ["core/db"] });
    expect(Object.keys(built.release.files)).toEqual(expect.arrayContaining(["lib/web-1.1.0/appup.json", "plans/1.0.0-2.0.0.json", "plans/1.5.0-2.0.0.json"]));
    // A plan to another version belongs to the release it leads to; other files in plans/ are not plans.
    expect(Object.keys(built.release.files).filter((f) => f.startsWith("plans/"))).toEqual(["plans/1.0.0-2.0.0.json", "plans/1.5.0-2.0.0.json"]);
  });

  it("a release version names one build: rebuilding the same sources is fine, different content is refused unless --force", async () => {
    const dir = await writeProject(await tempDir(), { files: { "apps/demo/a.ts": "export const v = 1;" } });
    const out = await tempDir();
    await buildRelease({ dir, out });
    await buildRelease({ dir, out });
    await writeProject(dir, { files: { "apps/demo/a.ts": "export const v = 2;" } });
    const error = await buildRelease({ dir, out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as Error).message).toContain("already holds a different build of this version");
    expect((await readdir(out)).sort()).toEqual(["demo-1.0.0", "demo-1.0.0.tar.gz"]);
    await buildRelease({ dir, out, force: true });
  });

  it("checks the plan files it ships: a broken appup.json is reported against the project's file", async () => {
    const dir = await writeProject(await tempDir(), { files: { "apps/demo/a.ts": "export {}", "apps/demo/appup.json": { format: 1, application: "demo", version: "1.0.0", up: [{ from: "0.9.0", instructions: [{ op: "load_modul", module: "a" }] }], down: [] } } });
    const error = await buildWithPlans({ dir, out: await tempDir() }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/apps\/demo\/appup\.json: up\[0\]\.instructions\[0\]\.op: .*Fix: correct the appup.json/);
  });

  it("checks the plans it ships: one named for this version but made for another, or named for another path, is refused", async () => {
    const plan = { format: 1, release: "demo", from: { version: "0.9.0", identity: "a".repeat(64) }, to: { version: "0.9.1", identity: "b".repeat(64) }, up: [], down: [], notes: [] };
    const dir = await writeProject(await tempDir(), { files: { "apps/demo/a.ts": "export {}", "plans/0.9.0-1.0.0.json": plan } });
    const error = await buildWithPlans({ dir, out: await tempDir() }).catch((e: unknown) => e);
    expect((error as Error).message).toContain("is a plan to demo 0.9.1, but this release is demo 1.0.0");
    const misnamed = { ...plan, to: { version: "1.0.0", identity: "b".repeat(64) } };
    await rm(path.join(dir, "plans", "0.9.0-1.0.0.json"));
    await writeProject(dir, { files: { "plans/0.8.0-1.0.0.json": misnamed } });
    const named = await buildWithPlans({ dir, out: await tempDir() }).catch((e: unknown) => e);
    expect((named as Error).message).toContain("from.version: is 0.9.0, but the file is named 0.8.0-1.0.0.json: a plan from 0.9.0 to 1.0.0 is plans/0.9.0-1.0.0.json");
  });

  it("a plan for another version does not stop the build: it stays in the project, unchecked", async () => {
    const dir = await writeProject(await tempDir(), { files: { "apps/demo/a.ts": "export {}", "plans/0.9.0-0.9.1.json": { format: 1 } } });
    const built = await buildWithPlans({ dir, out: await tempDir() });
    expect(Object.keys(built.release.files).some((f) => f.startsWith("plans/"))).toBe(false);
  });

  it("a project's relup.json (the old single plan) is refused with where it moves", async () => {
    const plan = { format: 1, release: "demo", from: { version: "0.9.0", identity: "a".repeat(64) }, to: { version: "1.0.0", identity: "b".repeat(64) }, up: [], down: [], notes: [] };
    const dir = await writeProject(await tempDir(), { files: { "apps/demo/a.ts": "export {}", "relup.json": plan } });
    const out = await tempDir();
    const error = await buildWithPlans({ dir, out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as Error).message).toContain("relup.json: is a plan in the old place");
    expect((error as Error).message).toContain(`git mv ${path.join(dir, "relup.json")} ${path.join(dir, "plans", "0.9.0-1.0.0.json")}`);
    expect(await readdir(out)).toEqual([]);
  });

  describe("refuses a broken project with a message naming the file and the fix, writing nothing", () => {
    it("an installed npm package whose version is not the one package.json asks for", async () => {
      const dir = await writeProject(await tempDir(), {
        files: {
          "package.json": { dependencies: { left: "^2.0.0" } },
          "node_modules/left/package.json": { name: "left", version: "1.4.0" },
          "apps/demo/a.ts": `import left from "left";\nexport const v = left;`,
        },
      });
      expect((await buildFails(dir, await tempDir())).message).toContain("dependencies.left: asks for ^2.0.0, but left 1.4.0 is installed");
    });

    it("a module that does not compile", async () => {
      const dir = await writeProject(await tempDir(), { files: { "apps/demo/bad.ts": "export function (" } });
      const error = await buildFails(dir, await tempDir());
      expect(error.message).toMatch(/apps\/demo\/bad\.ts: does not compile: .*bad\.ts:1:\d+/);
    });

    it("relup.config.json with an unknown field", async () => {
      const dir = await writeProject(await tempDir(), { config: { ...oneAppConfig(), plugins: [] }, files: { "apps/demo/a.ts": "export {}" } });
      expect((await buildFails(dir, await tempDir())).message).toContain('relup.config.json: (document): has unknown field "plugins"');
    });

    it("a start module that does not exist", async () => {
      const dir = await writeProject(await tempDir(), { config: oneAppConfig({ start: "main" }), files: { "apps/demo/a.ts": "export {}" } });
      expect((await buildFails(dir, await tempDir())).issues).toEqual([expect.objectContaining({ code: "unknown-reference", field: "applications[0].start", ref: "main" })]);
    });

    it("a start module whose behaviour is not `application`", async () => {
      const dir = await writeProject(await tempDir(), { config: oneAppConfig({ start: "main" }), files: { "apps/demo/main.ts": "export function start() {}" } });
      expect((await buildFails(dir, await tempDir())).message).toContain('export const behaviour = "application"');
    });

    it("an npm package that is not a dependency in package.json", async () => {
      const dir = await writeProject(await tempDir(), { files: { "apps/demo/a.ts": `import x from "lodash";\nexport const y = x;` } });
      expect((await buildFails(dir, await tempDir())).message).toContain('npm package "lodash", which is not in the project\'s package.json `dependencies`');
    });

    it("a dependency in package.json that is not installed", async () => {
      const dir = await writeProject(await tempDir(), {
        files: { "package.json": { dependencies: { "not-installed-anywhere": "1.0.0" } }, "apps/demo/a.ts": "export {}" },
      });
      expect((await buildFails(dir, await tempDir())).message).toContain("run `npm install`");
    });

    it("an import of a file outside every application", async () => {
      const dir = await writeProject(await tempDir(), { files: { "lib/util.ts": "export const u = 1", "apps/demo/a.ts": `import { u } from "../../lib/util";\nexport const v = u;` } });
      expect((await buildFails(dir, await tempDir())).message).toContain("outside every application");
    });

    it("an import of another application's module without depending on it", async () => {
      const dir = await writeProject(await tempDir(), {
        config: { format: 1, name: "two", version: "1.0.0", applications: [{ name: "a", version: "1.0.0" }, { name: "b", version: "1.0.0" }] },
        files: { "apps/a/x.ts": "export const x = 1", "apps/b/y.ts": `import * as x from "../a/x";\nexport const y = x.x;` },
      });
      expect((await buildFails(dir, await tempDir())).message).toContain('add "a" to the `applications` of "b"');
    });

    it("applications that depend on each other in a cycle", async () => {
      const dir = await writeProject(await tempDir(), {
        config: { format: 1, name: "two", version: "1.0.0", applications: [{ name: "a", version: "1.0.0", applications: ["b"] }, { name: "b", version: "1.0.0", applications: ["a"] }] },
        files: { "apps/a/x.ts": "export {}", "apps/b/y.ts": "export {}" },
      });
      expect((await buildFails(dir, await tempDir())).message).toContain("cycle: a → b → a");
    });

    it("a behaviour that is not a literal", async () => {
      const dir = await writeProject(await tempDir(), { files: { "apps/demo/s.ts": `export const behaviour = ["ser", "ver"].join("");` } });
      expect((await buildFails(dir, await tempDir())).message).toContain("apps/demo/s.ts: behaviour: must be declared as `export const behaviour =");
    });

    it("a folder without relup.config.json", async () => {
      expect((await buildFails(await tempDir(), await tempDir())).message).toContain("relup.config.json: not found");
    });
  });
});
