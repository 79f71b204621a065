/**
 * relup listed in a project's `dependencies` is not copied into the release: the node provides
 * `relup/runtime` to release code, and relup's own packages (esbuild, its tests, its CLI) have no place
 * in a release. `relup build` says so.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readRelease } from "../src/release/read-release.ts";
import { oneAppConfig, writeProject } from "./helpers/project.ts";
import { relup } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();

describe("relup build and relup itself as a dependency", () => {
  it("ships the other dependencies, skips relup (and what only relup needs), and says so", async () => {
    const dir = await writeProject(await tempDir(), {
      config: oneAppConfig({ start: "main" }),
      files: {
        "package.json": { name: "svc", version: "1.0.0", dependencies: { relup: "^0.1.0", left: "1.0.0" } },
        "apps/demo/main.ts": `import { startSupervisor } from "relup/runtime";\nimport left from "left";\nexport const behaviour = "application";\nexport function start() { return startSupervisor("sup", { left }); }`,
        "apps/demo/sup.ts": `export const behaviour = "supervisor";\nexport function init() { return { children: [] }; }`,
        // A stand-in for the installed package, with a dependency of its own that only it needs.
        "node_modules/relup/package.json": { name: "relup", version: "0.1.0", dependencies: { heavy: "1.0.0" } },
        "node_modules/relup/index.js": "export {};",
        "node_modules/heavy/package.json": { name: "heavy", version: "1.0.0" },
        "node_modules/left/package.json": { name: "left", version: "1.0.0", main: "index.js", dependencies: { relup: "*" } },
        "node_modules/left/index.js": "module.exports = 1;",
      },
    });
    const out = await tempDir();
    const result = await relup(["build", dir, "--out", out]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("relup is not copied into the release: the node provides relup/runtime (package.json dependencies.relup)");

    const loaded = await readRelease(path.join(out, "demo-1.0.0.tar.gz"));
    expect(loaded.release.npmDependencies).toEqual({ left: "1.0.0" });
    expect(Object.keys(loaded.release.files).filter((f) => f.startsWith("node_modules/"))).toEqual(["node_modules/left/index.js", "node_modules/left/package.json"]);
    await loaded.close();
    expect(await readdir(path.join(out, "demo-1.0.0", "node_modules"))).toEqual(["left"]);

    const json = await relup(["build", dir, "--out", await tempDir(), "--json"]);
    expect(JSON.parse(json.stdout).notes).toEqual(["relup is not copied into the release: the node provides relup/runtime (package.json dependencies.relup)"]);
  });
});
