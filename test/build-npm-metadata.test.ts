/**
 * What the build records for upgrading npm packages hot: the packages each module imports, what each
 * package's dependencies resolve to in the release (nested copies included), native addons, and the
 * project's npm.restart list, checked against what the release ships.
 */
import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { buildRelease } from "../src/release/build-release.ts";
import { ReleaseError } from "../src/release/issues.ts";
import { oneAppConfig, writeProject } from "./helpers/project.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();

/** left → right@^2 (top: right 2.1.0); mid → right@^1 (nested under mid: right 1.0.0); addon has binding.gyp. */
const packages = {
  "package.json": { name: "p", private: true, dependencies: { left: "1.0.0", mid: "1.0.0", addon: "1.0.0", built: "1.0.0" } },
  "node_modules/left/package.json": { name: "left", version: "1.0.0", dependencies: { right: "^2.0.0" } },
  "node_modules/left/index.js": "module.exports = require('right');",
  "node_modules/right/package.json": { name: "right", version: "2.1.0" },
  "node_modules/right/index.js": "module.exports = 2;",
  "node_modules/mid/package.json": { name: "mid", version: "1.0.0", dependencies: { right: "^1.0.0" } },
  "node_modules/mid/index.js": "module.exports = require('right');",
  "node_modules/mid/node_modules/right/package.json": { name: "right", version: "1.0.0" },
  "node_modules/mid/node_modules/right/index.js": "module.exports = 1;",
  "node_modules/addon/package.json": { name: "addon", version: "1.0.0" },
  "node_modules/addon/binding.gyp": "{}",
  "node_modules/addon/index.js": "module.exports = 0;",
  "node_modules/built/package.json": { name: "built", version: "1.0.0", gypfile: true },
  "node_modules/built/index.js": "module.exports = 0;",
};

describe("build: npm package metadata", () => {
  it("records each module's packages and each package's resolved dependencies and native addon", async () => {
    const dir = await writeProject(await tempDir(), {
      files: {
        ...packages,
        "apps/demo/a.ts": `import left from "left";\nimport mid from "mid/index.js";\nexport const v = [left, mid];`,
        "apps/demo/b.ts": `import * as a from "./a";\nexport const w = a.v;`,
      },
    });
    const built = await buildRelease({ dir, out: await tempDir() });
    expect(built.apps[0]!.modules.map((m) => [m.name, m.packages])).toEqual([
      ["a", ["left", "mid"]],
      ["b", []],
    ]);
    expect(built.release.npm).toEqual({
      direct: ["addon", "built", "left", "mid"],
      packages: {
        addon: { dependencies: [], native: "it builds a native addon (binding.gyp)" },
        built: { dependencies: [], native: "it builds a native addon (package.json `gypfile`)" },
        left: { dependencies: ["right"] },
        mid: { dependencies: ["mid/node_modules/right"] },
        "mid/node_modules/right": { dependencies: [] },
        right: { dependencies: [] },
      },
      restart: [],
    });
  });

  it("records npm.restart from relup.config.json, each name a package the release ships", async () => {
    const dir = await writeProject(await tempDir(), {
      config: { ...oneAppConfig(), npm: { restart: ["right", "left"] } },
      files: { ...packages, "apps/demo/a.ts": "export {}" },
    });
    expect((await buildRelease({ dir, out: await tempDir() })).release.npm?.restart).toEqual(["left", "right"]);
  });

  it("refuses an npm.restart name the release does not ship, naming the field and what it ships, and writes nothing", async () => {
    const dir = await writeProject(await tempDir(), {
      config: { ...oneAppConfig(), npm: { restart: ["left", "lefty"] } },
      files: { ...packages, "apps/demo/a.ts": "export {}" },
    });
    const out = await tempDir();
    const error = await buildRelease({ dir, out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as Error).message).toContain('relup.config.json: npm.restart[1]: names "lefty", which is not an npm package of the release');
    expect((error as Error).message).toContain("the release ships: addon, built, left, mid, right");
    expect(await readdir(out)).toEqual([]);
  });

  it("refuses an unknown field under npm", async () => {
    const dir = await writeProject(await tempDir(), { config: { ...oneAppConfig(), npm: { restarts: ["left"] } }, files: { ...packages, "apps/demo/a.ts": "export {}" } });
    const error = await buildRelease({ dir, out: await tempDir() }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/relup\.config\.json: npm: .*restarts/);
  });

  describe("installed packages must be the ones asked for (a stale node_modules would make a plan that changes nothing)", () => {
    const base = {
      "apps/demo/a.ts": `import h from "humanize";\nexport const v = h;`,
      "node_modules/humanize/package.json": { name: "humanize", version: "1.0.0", dependencies: { ms: "^2.1.3" } },
      "node_modules/humanize/index.js": "module.exports = require('ms');",
      "node_modules/ms/index.js": "module.exports = 1;",
    };
    const project = (ms: string, overrides?: object) => ({ ...base, "package.json": { name: "p", private: true, dependencies: { humanize: "1.0.0" }, ...(overrides ? { overrides } : {}) }, "node_modules/ms/package.json": { name: "ms", version: ms } });

    it("a package's dependency of a version its package does not ask for is refused, naming that package.json", async () => {
      const dir = await writeProject(await tempDir(), { files: project("2.1.2") });
      const error = await buildRelease({ dir, out: await tempDir() }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/humanize\/package\.json: dependencies\.ms: asks for \^2\.1\.3, but ms 2\.1\.2 is installed .*Fix: run `npm install` in the project/);
    });

    it("an npm override not installed yet is refused, naming package.json overrides", async () => {
      const dir = await writeProject(await tempDir(), { files: project("2.1.3", { ms: "2.1.2" }) });
      const error = await buildRelease({ dir, out: await tempDir() }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/package\.json: overrides\.ms: asks for 2\.1\.2, but ms 2\.1\.3 is installed/);
    });

    it("an override that is installed wins over the range its package asks for, at the top or nested under the package", async () => {
      const built = await buildRelease({ dir: await writeProject(await tempDir(), { files: project("2.1.2", { ms: "2.1.2" }) }), out: await tempDir() });
      expect(built.release.npmDependencies).toEqual({ humanize: "1.0.0", ms: "2.1.2" });
      const nested = await buildRelease({ dir: await writeProject(await tempDir(), { files: project("2.1.2", { humanize: { ms: "2.1.2" } }) }), out: await tempDir() });
      expect(nested.release.npmDependencies).toEqual({ humanize: "1.0.0", ms: "2.1.2" });
    });

    it("a nested override not installed yet is refused, naming its field; one under another package or version does not apply", async () => {
      const refused = async (overrides: object) => (await buildRelease({ dir: await writeProject(await tempDir(), { files: project("2.1.3", overrides) }), out: await tempDir() }).catch((e: unknown) => e)) as Error;
      expect((await refused({ humanize: { ms: "2.1.2" } })).message).toMatch(/package\.json: overrides\.humanize\.ms: asks for 2\.1\.2, but ms 2\.1\.3 is installed/);
      expect((await refused({ "humanize@1": { ms: "2.1.2" } })).message).toMatch(/overrides\.humanize@1\.ms: asks for 2\.1\.2/);
      expect((await refused({ ms: "2.1.3", humanize: { ms: "2.1.2" } })).message).toMatch(/overrides\.humanize\.ms: asks for 2\.1\.2/);
      expect((await refused({ "ms@^2.1.0": "2.1.2" })).message).toMatch(/overrides\.ms@\^2\.1\.0: asks for 2\.1\.2/);
      // Rules that do not reach ms under humanize 1.0.0: the build goes on.
      for (const overrides of [{ other: { ms: "2.1.2" } }, { "humanize@2": { ms: "2.1.2" } }, { "ms@^3": "3.0.0" }]) {
        const built = await buildRelease({ dir: await writeProject(await tempDir(), { files: project("2.1.3", overrides) }), out: await tempDir() });
        expect(built.release.npmDependencies).toEqual({ humanize: "1.0.0", ms: "2.1.3" });
      }
    });

    it("overrides that are not npm's shape are refused, naming the field", async () => {
      const error = (await buildRelease({ dir: await writeProject(await tempDir(), { files: project("2.1.3", { humanize: { ms: 2 } }) }), out: await tempDir() }).catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(/package\.json: overrides\.humanize\.ms: npm overrides map a package name to a version range/);
    });
  });
});
