/**
 * relup as a user gets it: `npm pack` (which builds dist/), the tarball installed into a new project with
 * npm, and then only what was installed: the user's modules type-checked by `tsc` against the package's
 * own .d.ts files, and the installed `node_modules/.bin/relup` (plain node, no tsx) building two versions
 * of a stateful service, generating and verifying the upgrade, starting the node, applying, rolling back
 * and stopping. Also: the package ships no tests, fixtures, bench or sources, and relup installed as a
 * regular dependency stays out of the releases.
 *
 * Needs the npm registry (or npm's cache) for relup's dependencies and the project's TypeScript.
 */
import { execFile, type ExecFileException } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, get } from "../src/net-helpers.ts";

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

// ---- the user's project: a shop whose cart server changes its state's shape from 1.0.0 to 2.0.0 ----

const config = (version: string) => ({ format: 1, name: "shop", version, applications: [{ name: "shop", version, start: "app", env: { port: 0 } }] });

const TSCONFIG = {
  compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, types: ["node"] },
  include: ["apps", "tools"],
};

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

const APP = `import { defineApplication, startSupervisor } from "relup/runtime";

export const behaviour = "application";

export const { start } = defineApplication<{ port: number }>({
  start: (env) => startSupervisor("sup", { port: Number(process.env.SHOP_PORT ?? env.port) }),
});
`;

const SUP = `import { defineSupervisor } from "relup/runtime";

export const behaviour = "supervisor";

export const { init } = defineSupervisor<{ port: number }>({
  init: (args) => ({
    children: [
      { id: "cart", module: "cart", name: "cart", modules: ["cart"] },
      { id: "http", module: "http_server", args: { port: args.port }, modules: ["http_server"] },
    ],
  }),
});
`;

const HTTP_SERVER = `import http from "node:http";
import { call, defineServer } from "relup/runtime";

export const behaviour = "server";

interface State {
  server: http.Server;
}

/** GET /add/<item> adds one to the cart, GET /show shows it: the cart process answers. */
export const { init, terminate } = defineServer<State, never, never, never, unknown, { port: number }>({
  init: async ({ port }) => {
    const server = http.createServer((req, res) => {
      const [, op, item] = (req.url ?? "").split("/");
      const request = op === "add" && item ? { op: "add" as const, item } : { op: "show" as const };
      call<string>("cart", request).then(
        (body) => res.end(body),
        (error: Error) => res.writeHead(503).end(error.message),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    return { server };
  },
  terminate: (_reason, state) => new Promise<void>((resolve) => state.server.close(() => resolve())),
});
`;

const CART_1 = `import { defineServer, z } from "relup/runtime";

export const behaviour = "server";
export const vsn = 1;
export const stateSchema = z.object({ items: z.map(z.string(), z.int().min(1)) });

type State = z.infer<typeof stateSchema>;
export type Request = { op: "add"; item: string } | { op: "show" };

const show = (state: State) => [...state.items].map(([item, count]) => \`\${item}=\${count}\`).join(",");

export const { init, handleCall } = defineServer<State, Request, string>({
  init: () => ({ items: new Map() }),
  handleCall: (request, _from, state) => {
    if (request.op === "show") return { reply: show(state), state };
    const items = new Map(state.items).set(request.item, (state.items.get(request.item) ?? 0) + 1);
    return { reply: show({ items }), state: { items } };
  },
});
`;

const CART_2 = `import { defineServer, z } from "relup/runtime";

export const behaviour = "server";
export const vsn = 2;
export const stateSchema = z.object({ lines: z.array(z.object({ item: z.string(), count: z.int().min(1) })) });

type State = z.infer<typeof stateSchema>;
interface StateV1 {
  items: Map<string, number>;
}
export type Request = { op: "add"; item: string } | { op: "show" };

const show = (state: State) => state.lines.map((line) => \`\${line.item} x\${line.count}\`).join(", ");

export const { init, handleCall, codeChange } = defineServer<State, Request, string>({
  init: () => ({ lines: [] }),
  handleCall: (request, _from, state) => {
    if (request.op === "show") return { reply: show(state), state };
    const known = state.lines.some((line) => line.item === request.item);
    const lines = known ? state.lines.map((line) => (line.item === request.item ? { ...line, count: line.count + 1 } : line)) : [...state.lines, { item: request.item, count: 1 }];
    return { reply: show({ lines }), state: { lines } };
  },
  // Up from vsn 1: the map becomes lines; down to vsn 1: the lines become a map again.
  codeChange: (oldVsn, state: State | StateV1) => {
    if (oldVsn === 1) return { lines: [...(state as StateV1).items].map(([item, count]) => ({ item, count })) };
    return { items: new Map((state as State).lines.map((line) => [line.item, line.count])) };
  },
});
`;

async function writeFiles(files: Record<string, string | object>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(project, rel)), { recursive: true });
    await writeFile(path.join(project, rel), typeof content === "string" ? content : JSON.stringify(content, null, 2) + "\n");
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "relup-package-"));
  project = path.join(work, "shop");
  // npm pack runs prepack, which builds dist/ from the sources.
  const pack = await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: REPO, timeoutMs: 240_000 });
  expect(pack.code, pack.stderr).toBe(0);
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;

  await writeFiles({
    // relup as a regular dependency (not -D), to show that the build still leaves it out of the release.
    "package.json": { name: "shop", version: "1.0.0", private: true, type: "module", dependencies: { relup: `file:${path.join(work, packed.filename)}` }, devDependencies: { typescript: "5.9", "@types/node": "^20.19.0" } },
    "tsconfig.json": TSCONFIG,
    "relup.config.json": config("1.0.0"),
    "apps/shop/app.ts": APP,
    "apps/shop/sup.ts": SUP,
    "apps/shop/http_server.ts": HTTP_SERVER,
    "apps/shop/cart.ts": CART_1,
    "tools/modules-of.ts": TOOL,
  });
  const install = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: project, timeoutMs: 240_000 });
  expect(install.code, install.stderr).toBe(0);
}, 480_000);

afterAll(async () => {
  if (!work) return;
  const root = path.join(project, "root");
  if (existsSync(path.join(root, "run", "launcher.pid"))) await relup(["stop", "--root", root]);
  await rm(work, { recursive: true, force: true });
});

describe("the packed package, installed into a project", () => {
  it("ships dist/, docs, README and LICENSE only, and installs without tsx or the bench tools", async () => {
    const files = packed.files.map((f) => f.path);
    const tops = new Set(files.map((f) => f.split("/")[0]));
    expect([...tops].sort()).toEqual(["LICENSE", "README.md", "dist", "docs", "package.json"]);
    expect(files.filter((f) => /(^|\/)(test|fixtures|bench|src|scripts)\//.test(f) || /\.test\.(js|ts)$/.test(f))).toEqual([]);
    for (const f of ["dist/cli/main.js", "dist/index.js", "dist/index.d.ts", "dist/runtime/public.js", "dist/runtime/public.d.ts", "dist/runtime/node-main.js", "dist/verify/worker.js", "dist/index.js.map"]) expect(files).toContain(f);

    const modules = path.join(project, "node_modules");
    for (const dev of ["tsx", "autocannon", "vitest", "eslint"]) expect(existsSync(path.join(modules, dev)), dev).toBe(false);
    const installed = await sizeOf(path.join(modules, "relup"));
    const all = await sizeOf(modules);
    const toolchain = (await sizeOf(path.join(modules, "typescript"))) + (await sizeOf(path.join(modules, "@types")));
    console.info(`relup ${packed.filename}: ${mb(packed.size)} packed, ${mb(packed.unpackedSize)} unpacked (${packed.files.length} files); installed: relup ${mb(installed)}, relup with its dependencies ${mb(all - toolchain)} (the project's TypeScript and @types: ${mb(toolchain)} more)`);
    expect(packed.unpackedSize).toBeLessThan(5 * 1024 * 1024);
  });

  it("the user's modules and tools type-check with tsc against the package's types, and both entry points load on plain node", async () => {
    const tsc = await run(path.join(project, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", "."], { cwd: project });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.code).toBe(0);
    const script = `import * as lib from "relup"; import * as runtime from "relup/runtime";
console.log(JSON.stringify({ lib: typeof lib.buildRelease, readRelease: typeof lib.readRelease, z: typeof runtime.z.object, defineServer: typeof runtime.defineServer, call: typeof runtime.call }));`;
    const loaded = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: project });
    expect(loaded.stderr).toBe("");
    expect(JSON.parse(loaded.stdout)).toEqual({ lib: "function", readRelease: "function", z: "function", defineServer: "function", call: "function" });
  });

  it("the installed CLI builds both versions, generates, verifies, starts, applies, rolls back and stops", async () => {
    // 1.0.0, type-checked by the build itself; relup is not copied into the release.
    const v1 = await relup(["build", ".", "--out", "_build"]);
    expect(v1.stderr).toBe("");
    expect(v1.code).toBe(0);
    expect(v1.stdout).toMatch(/note: type-checked with TypeScript 5\.9\.\d+ \(tsconfig\.json\)/);
    expect(v1.stdout).toContain("note: relup is not copied into the release");
    const release = JSON.parse(await readFile(path.join(project, "_build", "shop-1.0.0", "release.json"), "utf8")) as { npmDependencies: object; files: object };
    expect(release.npmDependencies).toEqual({});
    expect(Object.keys(release.files).filter((f) => f.startsWith("node_modules/"))).toEqual([]);

    // 2.0.0 with a handleCall that replies a number where the server's Reply is string: the build's type-check refuses it.
    const broken = CART_2.replace("if (request.op === \"show\") return { reply: show(state), state };", "if (request.op === \"show\") return { reply: state.lines.length, state };");
    // TypeScript reports it at the handleCall property, whose function type no longer fits.
    const brokenLine = broken.split("\n").findIndex((line) => line.includes("handleCall:")) + 1;
    await writeFiles({ "relup.config.json": config("2.0.0"), "apps/shop/cart.ts": broken });
    const refused = await relup(["build", ".", "--out", "_build"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`apps/shop/cart\\.ts:${brokenLine}:\\d+: TS2322: .*'number' is not assignable to type 'string'`));
    expect(existsSync(path.join(project, "_build", "shop-2.0.0"))).toBe(false);

    await writeFiles({ "apps/shop/cart.ts": CART_2 });
    const v2 = await relup(["build", ".", "--out", "_build"]);
    expect(v2.stderr).toBe("");
    expect(v2.code).toBe(0);

    const [from, to] = ["_build/shop-1.0.0.tar.gz", "_build/shop-2.0.0.tar.gz"];
    const plan = await relup(["generate", from, to, "--format", "text"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("update `cart` (advanced)");
    const verify = await relup(["verify", from, to, "--format", "text"]);
    expect(verify.stdout).toMatch(/✓ shop\/cart vsn 1 → 2: verified/);
    expect(verify.code).toBe(0);

    // The node runs from the installed dist/ with plain node.
    const port = await freePort();
    const root = path.join(project, "root");
    const started = await relup(["start", from, "--root", root, "--detach"], { SHOP_PORT: String(port) });
    expect(started.stderr).toContain("started shop 1.0.0");
    expect(started.code).toBe(0);
    const nodePid = Number(started.stdout.trim());
    const cmdline = (await readFile(`/proc/${nodePid}/cmdline`, "utf8")).split("\0");
    expect(cmdline[1]).toBe(path.join(project, "node_modules", "relup", "dist", "runtime", "node-main.js"));
    expect(cmdline.join(" ")).not.toContain("tsx");

    await get(port, "/add/apple");
    await get(port, "/add/pear");
    expect(await get(port, "/add/apple")).toBe("apple=2,pear=1");

    const applied = await relup(["apply", to, "--root", root, "--yes"]);
    expect(applied.code).toBe(0);
    expect(await get(port, "/show")).toBe("apple x2, pear x1");
    expect(await get(port, "/add/fig")).toBe("apple x2, pear x1, fig x1");

    const rolledBack = await relup(["rollback", "--root", root]);
    expect(rolledBack.code).toBe(0);
    expect(await get(port, "/show")).toBe("apple=2,pear=1,fig=1");

    const stopped = await relup(["stop", "--root", root]);
    expect(stopped.code).toBe(0);
    expect(existsSync(path.join(root, "run", "launcher.pid"))).toBe(false);
  }, 300_000);
});
