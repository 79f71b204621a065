/**
 * Every fixture project builds, and the metadata read from its sources is what the fixture means.
 * A compact summary of each build is pinned in `fixtures/<case>/<version>.metadata.txt` (reviewed like
 * code); the cases the later stages depend on are also spelled out literally below.
 */
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildRelease, type BuildResult } from "../src/release/build-release.ts";
import { shapeText } from "../src/release/state-shape.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();
const FIXTURES = path.join(import.meta.dirname, "..", "fixtures");
const projects = readdirSync(FIXTURES).flatMap((c) => readdirSync(path.join(FIXTURES, c), { withFileTypes: true }).filter((v) => v.isDirectory()).map((v) => [c, v.name] as const));

function summary(built: BuildResult): string {
  const { release } = built;
  const lines = [`release ${release.name} ${release.version} (node ${release.node})`];
  for (const [name, version] of Object.entries(release.npmDependencies)) {
    const meta = release.npm?.packages[name];
    const deps = meta && meta.dependencies.length > 0 ? ` dependencies=[${meta.dependencies.join(",")}]` : "";
    lines.push(`npm ${name}@${version}${release.npm?.direct.includes(name) ? " direct" : ""}${deps}${meta?.native ? ` native=${JSON.stringify(meta.native)}` : ""}`);
  }
  if (release.npm && release.npm.restart.length > 0) lines.push(`npm restart=[${release.npm.restart.join(",")}]`);
  for (const app of built.apps) {
    lines.push(`app ${app.name} ${app.version} start=${app.start ?? "-"} applications=[${app.applications.join(",")}] env=${JSON.stringify(app.env)}`);
    for (const m of app.modules) {
      lines.push(
        `  ${m.name}: behaviour=${m.behaviour ?? "-"} vsn=${m.vsnDeclared ? JSON.stringify(m.vsn) : "-"} imports=[${m.imports.join(",")}]${m.packages?.length ? ` packages=[${m.packages.join(",")}]` : ""} exports=[${m.exports.join(",")}]${m.mutableState.length ? ` mutableState=[${m.mutableState.join(",")}]` : ""}${m.stateShape ? ` stateShape=${shapeText(m.stateShape, Infinity)}` : ""}`,
      );
    }
  }
  const extra = Object.keys(release.files).filter((f) => /appup\.json$|^relup\.json$/.test(f));
  if (extra.length) lines.push(`ships ${extra.join(", ")}`);
  return lines.join("\n") + "\n";
}

async function build(fixture: string, version: string): Promise<BuildResult> {
  return buildRelease({ dir: path.join(FIXTURES, fixture, version), out: await tempDir() });
}

describe("fixtures", () => {
  it("there is a pair for the seed, the stateful counter, every appup-cookbook case and every kind of npm package change", () => {
    expect(readdirSync(FIXTURES).sort()).toEqual([
      "application-added",
      "application-removed",
      "calculator",
      "counter",
      "dependency-order",
      "env-changed",
      "functional-change",
      "hand-written-appup",
      "migration-bug",
      "module-added",
      "module-removed",
      "npm-added-removed",
      "npm-dependency",
      "npm-native",
      "npm-restart-listed",
      "npm-transitive",
      "supervisor-child",
    ]);
  });

  it.each(projects)("%s %s builds, with the metadata pinned in its .metadata.txt", async (fixture, version) => {
    const built = await build(fixture, version);
    await expect(summary(built)).toMatchFileSnapshot(path.join(FIXTURES, fixture, `${version}.metadata.txt`));
  });

  it("calculator: the router reaches `calculator.add` through the module; 1.1.0 changes only that module", async () => {
    const [v1, v2] = [await build("calculator", "1.0.0"), await build("calculator", "1.1.0")];
    const mod = (b: BuildResult, name: string) => b.apps[0]!.modules.find((m) => m.name === name)!;
    expect(mod(v1, "router")).toMatchObject({ behaviour: null, imports: ["calculator/calculator"], exports: ["handle"] });
    expect(mod(v1, "http_server")).toMatchObject({ behaviour: "server", imports: ["calculator/router"] });
    const changed = v1.apps[0]!.modules.filter((m) => mod(v2, m.name).sha256 !== m.sha256).map((m) => m.name);
    expect(changed).toEqual(["calculator"]);
  });

  it("counter: 2.0.0 declares state vsn 2 and exports codeChange; 1.0.0 declares vsn 1 without it", async () => {
    const [v1, v2] = [await build("counter", "1.0.0"), await build("counter", "2.0.0")];
    const counter = (b: BuildResult) => b.apps[0]!.modules.find((m) => m.name === "counter")!;
    expect(counter(v1)).toMatchObject({ behaviour: "server", vsn: 1, vsnDeclared: true });
    expect(counter(v1).exports).not.toContain("codeChange");
    expect(counter(v2)).toMatchObject({ behaviour: "server", vsn: 2, vsnDeclared: true });
    expect(counter(v2).exports).toContain("codeChange");
  });

  it.each([
    ["npm-dependency", { "tiny-pad": "1.0.0" }, { "tiny-pad": "1.1.0" }],
    ["npm-transitive", { "tiny-format": "1.0.0", "tiny-pad": "1.0.0" }, { "tiny-format": "1.0.0", "tiny-pad": "1.0.1" }],
    ["npm-native", { "tiny-native": "1.0.0" }, { "tiny-native": "1.1.0" }],
    ["npm-restart-listed", { "tiny-pad": "1.0.0" }, { "tiny-pad": "1.1.0" }],
  ])("%s: the shipped package versions are recorded, and are the only change", async (fixture, from, to) => {
    const [v1, v2] = [await build(fixture, "1.0.0"), await build(fixture, "1.1.0")];
    expect(v1.release.npmDependencies).toEqual(from);
    expect(v2.release.npmDependencies).toEqual(to);
    expect(v2.apps).toEqual(v1.apps);
  });

  it("npm-native: the package's native addon marker ships with it (binding.gyp, gypfile)", async () => {
    const built = await build("npm-native", "1.0.0");
    expect(Object.keys(built.release.files)).toContain("node_modules/tiny-native/binding.gyp");
    expect(JSON.parse(await readFile(path.join(built.releaseDir, "node_modules/tiny-native/package.json"), "utf8"))).toMatchObject({ gypfile: true });
  });

  it("npm-added-removed: tiny-pad goes, tiny-upper comes, and only `label` changes (with the application version)", async () => {
    const [v1, v2] = [await build("npm-added-removed", "1.0.0"), await build("npm-added-removed", "1.1.0")];
    expect(v1.release.npmDependencies).toEqual({ "tiny-pad": "1.0.0" });
    expect(v2.release.npmDependencies).toEqual({ "tiny-upper": "1.0.0" });
    expect([v1.apps[0]!.version, v2.apps[0]!.version]).toEqual(["1.0.0", "1.1.0"]);
    const sha = (b: BuildResult) => new Map(b.apps[0]!.modules.map((m) => [m.name, m.sha256]));
    expect([...sha(v1)].filter(([name, hash]) => sha(v2).get(name) !== hash).map(([name]) => name)).toEqual(["label"]);
  });
});
