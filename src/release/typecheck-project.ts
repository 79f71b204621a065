/**
 * The build's type-check: `tsc --noEmit -p tsconfig.json` with the project's own TypeScript
 * (node_modules/typescript, resolved from the project as Node does), in a child process, so that the
 * project is checked with the compiler and the settings it is developed with. esbuild, which compiles the
 * modules, strips types without checking them.
 *
 * - `auto` (the default): check when the project has a tsconfig.json. Without one, nothing is checked and
 *   nothing is said (the project does not use tsc); with one but no TypeScript installed, a note says
 *   that it was not checked, and why.
 * - `required` (`--typecheck`): as auto, but no tsconfig.json or no TypeScript fails the build.
 * - `off` (`--no-typecheck`): no check.
 *
 * Every error tsc reports becomes one issue naming its file, line and column; the build then fails
 * (exit 2) before it writes anything.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { ReleaseError, type ReleaseIssue } from "./issues.ts";

export type TypecheckMode = "auto" | "required" | "off";

/** What the check did, as a note for the build's output (undefined: nothing to say). */
export async function typecheckProject(projectDir: string, label: string, mode: TypecheckMode): Promise<string | undefined> {
  if (mode === "off") return undefined;
  const tsconfig = path.join(projectDir, "tsconfig.json");
  if (!existsSync(tsconfig)) {
    if (mode === "auto") return undefined;
    throw new ReleaseError([{ code: "build-failed", file: path.join(label, "tsconfig.json"), detail: "not found: --typecheck needs the project's tsconfig.json", fix: "add one (`npx tsc --init`), or leave --typecheck out" }]);
  }
  const compiler = await findTypescript(projectDir);
  if (!compiler) {
    if (mode === "auto") return "not type-checked: the project has a tsconfig.json but no TypeScript installed (node_modules/typescript); `npm install -D typescript` to check it, or `relup build --no-typecheck` to say it is not wanted";
    throw new ReleaseError([{ code: "build-failed", file: path.join(label, "package.json"), detail: "cannot type-check: no TypeScript installed in the project (node_modules/typescript)", fix: "`npm install -D typescript` in the project, or leave --typecheck out" }]);
  }
  const { code, output } = await run(process.execPath, [compiler.tsc, "--noEmit", "--pretty", "false", "-p", tsconfig], projectDir);
  if (code === 0) return `type-checked with TypeScript ${compiler.version} (tsconfig.json)`;
  const issues = parseTscOutput(output, projectDir, label);
  if (issues.length === 0) {
    issues.push({ code: "build-failed", file: path.join(label, "tsconfig.json"), detail: `the type-check failed (tsc ${compiler.version} exited with ${code}): ${output.trim() || "no output"}`, fix: "run `npx tsc --noEmit` in the project to see why, or build without the type-check: `relup build --no-typecheck`" });
  }
  throw new ReleaseError(issues);
}

async function findTypescript(projectDir: string): Promise<{ tsc: string; version: string } | undefined> {
  let manifest: string;
  try {
    manifest = createRequire(path.join(projectDir, "package.json")).resolve("typescript/package.json");
  } catch {
    return undefined;
  }
  const pkg = JSON.parse(await readFile(manifest, "utf8")) as { version?: string; bin?: Record<string, string> };
  const tsc = path.join(path.dirname(manifest), pkg.bin?.tsc ?? "bin/tsc");
  return existsSync(tsc) ? { tsc, version: pkg.version ?? "?" } : undefined;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/**
 * tsc's `--pretty false` lines, `file(line,col): error TSnnnn: message`, with the indented lines that
 * continue a message; errors of no file (`error TS5083: ...`) name the tsconfig.json.
 */
export function parseTscOutput(output: string, projectDir: string, label: string): ReleaseIssue[] {
  const issues: ReleaseIssue[] = [];
  const at = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/;
  const bare = /^error (TS\d+): (.*)$/;
  let last: { file: string; detail: string } | undefined;
  const flush = () => {
    if (last) issues.push({ code: "type-error", file: last.file, detail: last.detail });
    last = undefined;
  };
  for (const line of output.split("\n")) {
    const located = at.exec(line);
    const general = located ? null : bare.exec(line);
    if (located) {
      flush();
      const [, file, row, col, code, message] = located as unknown as [string, string, string, string, string, string];
      last = { file: `${path.join(label, path.relative(projectDir, path.resolve(projectDir, file)))}:${row}:${col}`, detail: `${code}: ${message}` };
    } else if (general) {
      flush();
      last = { file: path.join(label, "tsconfig.json"), detail: `${general[1]}: ${general[2]}` };
    } else if (last && /^\s+\S/.test(line)) {
      last.detail += ` ${line.trim()}`;
    }
  }
  flush();
  return issues;
}
