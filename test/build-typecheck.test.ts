/**
 * `relup build` type-checks a project that has a tsconfig.json with the project's own TypeScript
 * (node_modules/typescript, in a child process): a type error fails the build (exit 2) naming the file
 * and the line, and nothing is written; `--no-typecheck` skips it; a project without TypeScript gets a
 * note, or a failure when `--typecheck` asked for it.
 */
import { readdir, symlink } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { oneAppConfig, writeProject } from "./helpers/project.ts";
import { relup } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();
const TYPESCRIPT = path.join(import.meta.dirname, "..", "node_modules", "typescript");
const TSCONFIG = { compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", types: [] }, include: ["apps"] };
const SERVER = `export const behaviour = "server";
export function init(): { count: number } { return { count: 0 }; }
export function handleCall(_request: unknown, _from: unknown, state: { count: number }) { return { reply: state.count, state }; }
`;

async function project(files: Record<string, string | object>, withTypescript = true): Promise<string> {
  const dir = await writeProject(await tempDir(), { config: oneAppConfig(), files });
  if (withTypescript) await symlink(TYPESCRIPT, path.join(dir, "node_modules", "typescript"), "dir");
  return dir;
}

describe("relup build type-checks the project", () => {
  it("a type error fails the build with exit 2, naming the file and the line, and writes nothing", async () => {
    const dir = await project({ "tsconfig.json": TSCONFIG, "apps/demo/counter.ts": SERVER.replace("return { count: 0 };", `return { count: "zero" };`), "node_modules/.keep": "" });
    const out = await tempDir();
    const result = await relup(["build", dir, "--out", out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/apps\/demo\/counter\.ts:2:\d+: TS2322: Type 'string' is not assignable to type 'number'\./);
    expect(result.stderr).toContain("Fix: correct it, or build without the type-check: `relup build --no-typecheck`");
    expect(await readdir(out)).toEqual([]);

    const skipped = await relup(["build", dir, "--out", out, "--no-typecheck"]);
    expect(skipped.stderr).toBe("");
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).not.toContain("type-checked");
  });

  it("a project that type-checks builds, and the output says it was checked", async () => {
    const dir = await project({ "tsconfig.json": TSCONFIG, "apps/demo/counter.ts": SERVER, "node_modules/.keep": "" });
    const result = await relup(["build", dir, "--out", await tempDir()]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/note: type-checked with TypeScript 5\.\d+\.\d+ \(tsconfig\.json\)/);
  });

  it("without TypeScript in the project: a note, or exit 2 when --typecheck asked for it", async () => {
    const dir = await project({ "tsconfig.json": TSCONFIG, "apps/demo/counter.ts": SERVER }, false);
    const noted = await relup(["build", dir, "--out", await tempDir()]);
    expect(noted.code).toBe(0);
    expect(noted.stdout).toContain("note: not type-checked: the project has a tsconfig.json but no TypeScript installed (node_modules/typescript); `npm install -D typescript` to check it, or `relup build --no-typecheck` to say it is not wanted");

    const out = await tempDir();
    const asked = await relup(["build", dir, "--out", out, "--typecheck"]);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain("cannot type-check: no TypeScript installed in the project (node_modules/typescript). Fix: `npm install -D typescript` in the project, or leave --typecheck out");
    expect(await readdir(out)).toEqual([]);
  });

  it("without a tsconfig.json: no check and no note, or exit 2 when --typecheck asked for it", async () => {
    const dir = await project({ "apps/demo/counter.ts": SERVER.replace("return { count: 0 };", `return { count: "zero" } as never;`), "node_modules/.keep": "" });
    const plain = await relup(["build", dir, "--out", await tempDir()]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).not.toContain("note:");
    const asked = await relup(["build", dir, "--out", await tempDir(), "--typecheck"]);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain("tsconfig.json: not found: --typecheck needs the project's tsconfig.json. Fix: add one");
  });
});
