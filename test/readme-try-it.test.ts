/**
 * The README's "Try it" block runs as written, from the repository (as on a fresh clone after `npm ci`):
 * each line in order through bash, with three substitutions so that it can run beside other tests — its
 * own folders for /tmp/rel and /tmp/calc, and a free port for 4000 (set in the root's config.json, as an
 * operator would). The node it starts is stopped afterwards, whatever happened.
 */
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { freePort } from "../src/net-helpers.ts";
import { relup } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();
const ROOT = path.join(import.meta.dirname, "..");

async function tryIt(): Promise<string[]> {
  const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Try it"));
  const block = /```sh\n([^]*?)```/.exec(section)![1]!;
  return block.split("\n").filter((l) => l.trim() !== "");
}

/**
 * `npx relup` in the checkout runs dist/, which `npm ci` builds (prepare). Sources changed since are
 * built again first, as a developer would after editing them.
 */
async function builtFromSources(): Promise<void> {
  const built = await stat(path.join(ROOT, "dist", "cli", "main.js")).then((s) => s.mtimeMs, () => 0);
  const sources = await readdir(path.join(ROOT, "src"), { recursive: true });
  const newest = Math.max(...(await Promise.all(sources.map((f) => stat(path.join(ROOT, "src", f)).then((s) => s.mtimeMs)))));
  if (newest > built) await promisify(execFile)("npm", ["run", "build"], { cwd: ROOT });
}

describe("README: Try it", () => {
  it("runs line by line, and the node answers 4, then 8 after the upgrade", async () => {
    await builtFromSources();
    const lines = await tryIt();
    expect(lines.join("\n")).toContain("-o /tmp/rel/plans/ --check");
    const dir = await tempDir();
    const [rel, calc, port] = [path.join(dir, "rel"), path.join(dir, "calc"), await freePort()];
    await mkdir(calc, { mode: 0o700 });
    await writeFile(path.join(calc, "config.json"), JSON.stringify({ calculator: { port } }));
    const outputs: string[] = [];
    try {
      for (const line of lines) {
        const command = line.replaceAll("/tmp/rel", rel).replaceAll("/tmp/calc", calc).replaceAll("localhost:4000", `localhost:${port}`);
        const result = await promisify(execFile)("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", command], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 16 * 1024 * 1024 }).catch((error: { code: number; stdout: string; stderr: string }) => error);
        expect("code" in result ? result : { code: 0 }, line).toMatchObject({ code: 0 });
        if (line.includes("curl ")) outputs.push(result.stdout.trim().split("\n").at(-1)!);
      }
    } finally {
      await relup(["stop", "--root", calc]);
    }
    // What curl printed last on each line that calls it: the answer before and after the upgrade.
    expect(outputs).toEqual(["4", "8"]);
  }, 300_000);
});
