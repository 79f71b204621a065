/**
 * relup as a user gets it: `npm pack` (which builds dist/), a project written by the packed CLI's
 * `relup init`, its relup dev dependency pointed at the tarball and installed with npm, and then only
 * what was installed: the scaffold type-checked as written by `tsc` against the package's own .d.ts
 * files (and a tool of the user's using the library), and the installed `node_modules/.bin/relup` (plain
 * node, no tsx) building 1.0.0 as scaffolded and a 2.0.0 whose store changes its state's shape,
 * generating and verifying the upgrade, starting the node, applying, rolling back and stopping. Also:
 * the package ships no tests, fixtures, bench or sources, and relup stays out of the releases.
 *
 * Prints the package's sizes and the time from `relup init` to the first applied upgrade, by step.
 * Needs the npm registry (or npm's cache) for relup's dependencies and the project's TypeScript.
 */
import { execFile, type ExecFileException } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, get } from "../src/net-helpers.ts";
import { STORE_VSN_2 } from "./helpers/init-store.ts";

const REPO = path.join(import.meta.dirname, "..");
let work: string;
let project: string;
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

/** The environment of a user's shell: nothing of the test runner's own loaders. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  for (const key of Object.keys(env)) if (key === "NODE_OPTIONS" || key.startsWith("VITEST")) delete env[key];
  return env;
}

async function run(file: string, args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: userEnv(options.env), timeout: options.timeoutMs ?? 120_000, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024 }, (error: ExecFileException | null, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The installed CLI, as `npx relup` runs it. */
const relup = (args: string[], env: Record<string, string> = {}) => run(path.join(project, "node_modules", ".bin", "relup"), args, { cwd: project, env });

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await sizeOf(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

// ---- the user's project: `relup init --name shop`, then a tool of theirs and a 2.0.0 of its store ----

/** A tool of the user's using the library (`relup`), type-checked with the modules and run with node. */
const TOOL = `import { readRelease, type LoadedRelease } from "relup";

export async function modulesOf(tarball: string): Promise<string[]> {
  const release: LoadedRelease = await readRelease(tarball);
  try {
    return release.apps.flatMap((app) => app.modules.map((m) => \`\${app.name}/\${m.name}\`));
  } finally {
    await release.close();
  }
}
`;

async function writeFiles(files: Record<string, string | object>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(project, rel)), { recursive: true });
    await writeFile(path.join(project, rel), typeof content === "string" ? content : JSON.stringify(content, null, 2) + "\n");
  }
}

async function readJson<T>(rel: string): Promise<T> {
  return JSON.parse(await readFile(path.join(project, rel), "utf8")) as T;
}

/** relup.config.json at another version, as a user bumps it: the release's and the application's. */
async function bumpConfig(version: string): Promise<void> {
  const config = await readJson<{ version: string; applications: { version: string }[] }>("relup.config.json");
  config.version = version;
  for (const app of config.applications) app.version = version;
  await writeFiles({ "relup.config.json": config });
}

/**
 * What a user waits for from `relup init` to the first applied upgrade, step by step (ms), printed at the
 * apply. `begin()` where a test starts timing again, so that the other tests' checks are not counted.
 */
const steps: [string, number][] = [];
let since = 0;
const begin = () => void (since = performance.now());
function step(name: string): void {
  steps.push([name, performance.now() - since]);
  begin();
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "relup-package-"));
  project = path.join(work, "shop");
  // Packed from a copy of the repository's sources, so that the build npm pack runs (prepare) writes its
  // own dist/ and never the repository's, which other tests may be running from.
  const source = path.join(work, "source");
  await mkdir(source);
  for (const entry of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "README.md", "LICENSE", "src", "docs"]) {
    await cp(path.join(REPO, entry), path.join(source, entry), { recursive: true });
  }
  await symlink(path.join(REPO, "node_modules"), path.join(source, "node_modules"), "dir");
  const pack = await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: source, timeoutMs: 240_000 });
  expect(pack.code, pack.stderr).toBe(0);
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;
  const tarball = path.join(work, packed.filename);

  // `relup init` of the packed CLI: the tarball unpacked, its dependencies (not in the tarball) from the
  // repository's node_modules, as `npx relup init` would have them from npm.
  const unpacked = path.join(work, "unpacked");
  await mkdir(unpacked);
  const untar = await run("tar", ["-xzf", tarball, "-C", unpacked], { cwd: work });
  expect(untar.code, untar.stderr).toBe(0);
  await symlink(path.join(REPO, "node_modules"), path.join(unpacked, "package", "node_modules"), "dir");

  begin();
  const init = await run(process.execPath, [path.join(unpacked, "package", "dist", "cli", "main.js"), "init", "shop"], { cwd: work });
  expect(init.stderr).toContain(`wrote the release project shop in ${project}`);
  expect(init.code).toBe(0);
  step("relup init");
  // The project asks for relup ^<version> from the registry; this one is the tarball instead.
  const pkg = await readJson<{ devDependencies: Record<string, string> }>("package.json");
  expect(pkg.devDependencies.relup).toBe(`^${packed.filename.replace(/^relup-|\.tgz$/g, "")}`);
  pkg.devDependencies.relup = `file:${tarball}`;
  await writeFiles({ "package.json": pkg });
  const install = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: project, timeoutMs: 240_000 });
  expect(install.code, install.stderr).toBe(0);
  step("npm install");
}, 480_000);

afterAll(async () => {
  if (!work) return;
  const root = path.join(project, "relup-root");
  if (existsSync(path.join(root, "run", "launcher.pid"))) await relup(["stop", "--root", root]);
  await rm(work, { recursive: true, force: true });
});

describe("the packed package, installed into a project written by its `relup init`", () => {
  it("ships dist/, docs, README and LICENSE only, and installs without tsx or the bench tools", async () => {
    const files = packed.files.map((f) => f.path);
    const tops = new Set(files.map((f) => f.split("/")[0]));
    expect([...tops].sort()).toEqual(["LICENSE", "README.md", "dist", "docs", "package.json"]);
    expect(files.filter((f) => /(^|\/)(test|fixtures|bench|src|scripts)\//.test(f) || /\.test\.(js|ts)$/.test(f))).toEqual([]);
    // The build leaves the CLI executable, so `npx relup` in the checkout runs it (npm sets the mode on install).
    expect((await stat(path.join(work, "source", "dist", "cli", "main.js"))).mode & 0o111).toBe(0o111);
    for (const f of ["dist/cli/main.js", "dist/index.js", "dist/index.d.ts", "dist/runtime/public.js", "dist/runtime/public.d.ts", "dist/runtime/node-main.js", "dist/verify/worker.js", "dist/index.js.map", "dist/observe/static/index.html", "dist/observe/static/app.js"]) expect(files).toContain(f);

    const modules = path.join(project, "node_modules");
    for (const dev of ["tsx", "autocannon", "vitest", "eslint"]) expect(existsSync(path.join(modules, dev)), dev).toBe(false);
    const installed = await sizeOf(path.join(modules, "relup"));
    const all = await sizeOf(modules);
    const toolchain = (await sizeOf(path.join(modules, "typescript"))) + (await sizeOf(path.join(modules, "@types")));
    console.info(`relup ${packed.filename}: ${mb(packed.size)} packed, ${mb(packed.unpackedSize)} unpacked (${packed.files.length} files); installed: relup ${mb(installed)}, relup with its dependencies ${mb(all - toolchain)} (the project's TypeScript and @types: ${mb(toolchain)} more)`);
    expect(packed.unpackedSize).toBeLessThan(5 * 1024 * 1024);
  });

  it("the scaffold type-checks with tsc as written, so does a tool of the user's using the library, and both entry points load on plain node", async () => {
    const tsc = () => run(path.join(project, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", "."], { cwd: project });
    begin();
    const asWritten = await tsc();
    expect(asWritten.stdout + asWritten.stderr).toBe("");
    expect(asWritten.code).toBe(0);
    step("tsc --noEmit");

    const tsconfig = await readJson<{ include: string[] }>("tsconfig.json");
    await writeFiles({ "tsconfig.json": { ...tsconfig, include: [...tsconfig.include, "tools"] }, "tools/modules-of.ts": TOOL });
    const withTool = await tsc();
    expect(withTool.stdout + withTool.stderr).toBe("");
    expect(withTool.code).toBe(0);

    const script = `import * as lib from "relup"; import * as runtime from "relup/runtime";
console.log(JSON.stringify({ lib: typeof lib.buildRelease, readRelease: typeof lib.readRelease, z: typeof runtime.z.object, defineServer: typeof runtime.defineServer, call: typeof runtime.call }));`;
    const loaded = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: project });
    expect(loaded.stderr).toBe("");
    expect(JSON.parse(loaded.stdout)).toEqual({ lib: "function", readRelease: "function", z: "function", defineServer: "function", call: "function" });
  });

  it("the installed CLI builds 1.0.0 as scaffolded and a 2.0.0, generates, verifies, starts, applies, rolls back and stops", async () => {
    // 1.0.0 as `relup init` wrote it, type-checked by the build itself; relup is not copied into the release.
    begin();
    const v1 = await relup(["build"]);
    expect(v1.stderr).toBe("");
    expect(v1.code).toBe(0);
    expect(v1.stdout).toMatch(/note: type-checked with TypeScript 5\.9\.\d+ \(tsconfig\.json\)/);
    expect(v1.stdout).toContain("store [server, vsn 1, codeChange]");
    const release = await readJson<{ npmDependencies: object; files: object }>("_build/shop-1.0.0/release.json");
    expect(release.npmDependencies).toEqual({});
    expect(Object.keys(release.files).filter((f) => f.startsWith("node_modules/"))).toEqual([]);
    step("relup build 1.0.0");

    // 2.0.0 with a handleCall that replies a string where the store's Reply is number: the build's type-check refuses it.
    await bumpConfig("2.0.0");
    const broken = STORE_VSN_2.replace("if (request.op === \"peek\") return { reply: count, state };", "if (request.op === \"peek\") return { reply: String(count), state };");
    expect(broken).not.toBe(STORE_VSN_2);
    // TypeScript reports it at the handleCall property, whose function type no longer fits.
    const brokenLine = broken.split("\n").findIndex((line) => line.includes("handleCall:")) + 1;
    await writeFiles({ "apps/shop/store.ts": broken });
    const refused = await relup(["build"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`apps/shop/store\\.ts:${brokenLine}:\\d+: TS2322: .*'string' is not assignable to type 'number'`));
    expect(existsSync(path.join(project, "_build", "shop-2.0.0"))).toBe(false);
    step("relup build 2.0.0 refused (a wrong reply type)");

    await writeFiles({ "apps/shop/store.ts": STORE_VSN_2 });
    const v2 = await relup(["build"]);
    expect(v2.stderr).toBe("");
    expect(v2.code).toBe(0);
    step("relup build 2.0.0");

    const [from, to] = ["_build/shop-1.0.0.tar.gz", "_build/shop-2.0.0.tar.gz"];
    const plan = await relup(["generate", from, to, "--format", "text"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("update `store` (advanced)");
    step("relup generate");
    const verify = await relup(["verify", from, to, "--format", "text"]);
    expect(verify.stdout).toMatch(/✓ shop\/store vsn 1 → 2: verified/);
    expect(verify.code).toBe(0);
    step("relup verify");

    // The node runs from the installed dist/ with plain node, in the root the scaffold's scripts use.
    const port = await freePort();
    const root = path.join(project, "relup-root");
    const started = await relup(["start", from, "--root", root, "--detach"], { PORT: String(port) });
    expect(started.stderr).toContain("started shop 1.0.0");
    expect(started.code).toBe(0);
    const nodePid = Number(started.stdout.trim());
    const cmdline = (await readFile(`/proc/${nodePid}/cmdline`, "utf8")).split("\0");
    expect(cmdline[1]).toBe(path.join(project, "node_modules", "relup", "dist", "runtime", "node-main.js"));
    expect(cmdline.join(" ")).not.toContain("tsx");
    step("relup start");

    await get(port, "/count/apples");
    await get(port, "/count/pears");
    expect(await get(port, "/count/apples")).toBe("2");

    const applied = await relup(["apply", to, "--root", root, "--yes"]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain("upgraded 1.0.0 → 2.0.0");
    step("relup apply");
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const total = steps.reduce((sum, [, ms]) => sum + ms, 0);
    const refusal = steps.find(([name]) => name.includes("refused"))![1];
    console.info(`from relup init to the first applied upgrade: ${seconds(total)} (${seconds(total - refusal)} without the refused build)\n${steps.map(([name, ms]) => `  ${name}: ${seconds(ms)}`).join("\n")}`);
    expect(await get(port, "/peek/apples")).toBe("2");
    expect(await get(port, "/count/apples")).toBe("3");
    expect(await get(port, "/count/figs")).toBe("1");

    const rolledBack = await relup(["rollback", "--root", root]);
    expect(rolledBack.code).toBe(0);
    expect(await get(port, "/peek/apples")).toBe("3");
    expect(await get(port, "/peek/pears")).toBe("1");
    expect(await get(port, "/peek/figs")).toBe("1");

    const stopped = await relup(["stop", "--root", root]);
    expect(stopped.code).toBe(0);
    expect(existsSync(path.join(root, "run", "launcher.pid"))).toBe(false);
  }, 300_000);
});
