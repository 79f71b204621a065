/**
 * Importers of release modules hold the module table's namespace object itself: real sources compiled by
 * compileModule (esbuild) and run in a real ModuleTable.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { SourceMap } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/helpers/temp-dir.ts";
import { ModuleTable } from "../runtime/module-table.ts";
import { compileModule } from "./compile-module.ts";
import { readNamespacesDirectly } from "./read-namespaces-directly.ts";

const tempDir = useTempDirs();

async function project(files: Record<string, string>) {
  const projectDir = await tempDir("relup-ns-");
  const app = { name: "app", dir: path.join(projectDir, "apps", "app") };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(app.dir, name)), { recursive: true });
    await writeFile(path.join(app.dir, name), text);
  }
  const compile = async (file: string) => {
    const module = file.replace(/\.m?ts$/, "");
    const result = await compileModule({
      projectDir,
      app,
      apps: [app],
      module,
      file: path.join(app.dir, file),
      outPath: `lib/app-1.0.0/${module}.js`,
      npmDependencies: new Set(),
    });
    if (!result.ok) throw new Error(result.errors.join("\n"));
    return result.value;
  };
  const table = new ModuleTable({ runtimeApi: () => ({}) });
  let vsn = 0;
  const load = async (file: string, text?: string) => {
    if (text !== undefined) await writeFile(path.join(app.dir, file), text);
    const module = `app/${file.replace(/\.m?ts$/, "")}`;
    if (table.old(module)) table.purge(module, "brutal");
    const { code } = await compile(file);
    table.load(table.compile(module, code, path.join(projectDir, "lib", `${module}.js`), { vsn: ++vsn, sha256: String(vsn) }));
    return table.namespace(module);
  };
  return { compile, load, table };
}

describe("importers of release modules read the namespace object directly", () => {
  it("`import * as` is the module's one namespace object, not a copy", async () => {
    const { load, table } = await project({
      "math.ts": "export const add = (a: number, b: number) => a + b;\n",
      "user.ts": 'import * as math from "./math";\nexport const ns = () => math;\nexport const two = () => math.add(1, 1);\n',
    });
    await load("math.ts");
    const user = (await load("user.ts")) as { ns: () => unknown; two: () => number };
    expect(user.ns()).toBe(table.namespace("app/math"));
    expect(user.two()).toBe(2);
  });

  it("late binding by name: exports a later version adds or removes are seen through `import *` without reloading the importer", async () => {
    const { load } = await project({
      "routes.ts": 'export const ping = () => "pong";\nexport const old = () => "old";\n',
      "router.ts": [
        'import * as routes from "./routes";',
        "export const dispatch = (name: string) => {",
        "  const handler = (routes as Record<string, unknown>)[name];",
        '  return typeof handler === "function" ? (handler as () => string)() : "no route";',
        "};",
        "export const names = () => Object.keys(routes).sort();",
        "",
      ].join("\n"),
    });
    await load("routes.ts");
    const router = (await load("router.ts")) as { dispatch: (name: string) => string; names: () => string[] };
    expect(router.dispatch("ping")).toBe("pong");
    expect(router.dispatch("echo")).toBe("no route");
    await load("routes.ts", 'export const ping = () => "pong 2";\nexport const echo = () => "echo";\n');
    expect(router.dispatch("ping")).toBe("pong 2");
    expect(router.dispatch("echo")).toBe("echo");
    expect(router.dispatch("old")).toBe("no route");
    expect(router.names()).toEqual(["echo", "ping"]);
  });

  it("a default import reaches the current version's default export, also from an .mts importer (Node's ES module rule)", async () => {
    const { load } = await project({
      "greet.ts": 'export default function greet(name: string) { return "hello " + name; }\nexport const other = 1;\n',
      "user.ts": 'import greet from "./greet";\nexport const run = () => greet("ts");\n',
      "node-user.mts": 'import greet from "./greet";\nexport const run = () => greet("mts");\n',
    });
    await load("greet.ts");
    const user = (await load("user.ts")) as { run: () => string };
    const nodeUser = (await load("node-user.mts")) as { run: () => string };
    expect(user.run()).toBe("hello ts");
    expect(nodeUser.run()).toBe("hello mts");
    await load("greet.ts", 'export default function greet(name: string) { return "hi " + name; }\n');
    expect(user.run()).toBe("hi ts");
    expect(nodeUser.run()).toBe("hi mts");
  });

  it("node: built-ins keep esbuild's interop; only `relup:` requires lose the helper", async () => {
    const { compile } = await project({
      "math.ts": "export default 1;\nexport const add = (a: number, b: number) => a + b;\n",
      "user.ts": 'import * as math from "./math";\nimport one from "./math";\nimport fs from "node:fs";\nexport const f = () => [math.add(one, 1), fs.existsSync];\n',
    });
    const { code } = await compile("user.ts");
    expect(code).toContain('__toESM(require("node:fs"))');
    expect(code).not.toMatch(/__toESM\(require\("relup:/);
    expect(code.match(/= require\("relup:app\/math"\);/g)).toHaveLength(2);
  });

  it("the source map still points at the source after the cut, on the cut line too", () => {
    const code = 'var a = __toESM(require("relup:x/y")), b = f();\n';
    // Segments at generated columns 0, 8 (`__toESM`) and 39 (`b`), mapped to source columns 0, 8 and 20 of line 0.
    const map = JSON.stringify({ version: 3, sources: ["a.ts"], names: [], mappings: "AAAA,QAAQ,+BAAY" });
    const out = readNamespacesDirectly(code, map);
    expect(out.code).toBe('var a = require("relup:x/y"), b = f();\n');
    const before = new SourceMap(JSON.parse(map));
    const after = new SourceMap(JSON.parse(out.map));
    expect(before.findEntry(0, code.indexOf("b ="))).toMatchObject({ generatedColumn: 39, originalColumn: 20 });
    expect(after.findEntry(0, out.code.indexOf("b ="))).toMatchObject({ generatedColumn: 30, originalColumn: 20 });
    expect(after.findEntry(0, 8)).toMatchObject({ generatedColumn: 8, originalColumn: 8 });
  });
});
