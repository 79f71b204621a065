/**
 * The command line as a user runs it, with exit codes and output checked: commands run in this process
 * through the CLI's entry (runCli), and the two smoke tests of the executable (`bin/relup.js` in a real
 * child process: one success, one failure with its exit code) the same way; plus the yargs parser built
 * by createCli for help texts.
 */
import { cp, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createCli } from "../src/cli/create-cli.ts";
import { bufferIo } from "../src/cli/io.ts";
import { relup, relupProcess } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();

async function help(args: string[]): Promise<string> {
  const io = bufferIo();
  let text = "";
  await createCli(io, args).exitProcess(false).parseAsync(args, {}, (_err, _argv, output) => {
    text = output;
  });
  return text;
}

describe("relup CLI", () => {
  it("`relup build` twice writes byte-identical tarballs; `relup inspect` verifies them", async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const first = await relup(["build", "fixtures/calculator/1.0.0", "--out", a]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toMatch(/^built calculator 1\.0\.0 in \d+ ms/);
    expect((await relup(["build", "fixtures/calculator/1.0.0", "--out", b])).code).toBe(0);
    expect(await readFile(path.join(b, "calculator-1.0.0.tar.gz"))).toEqual(await readFile(path.join(a, "calculator-1.0.0.tar.gz")));
    // The executable's smoke test of a success: exit 0, the report on stdout.
    const inspected = await relupProcess(["inspect", path.join(a, "calculator-1.0.0.tar.gz")]);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain("verified calculator 1.0.0: 12 files match release.json");
  });

  it("a tampered tarball is refused with exit 2, a message naming the file and the fix, and nothing left on disk", async () => {
    const out = await tempDir();
    await relup(["build", "fixtures/calculator/1.0.0", "--out", out]);
    const tarball = path.join(out, "calculator-1.0.0.tar.gz");
    const bytes = await readFile(tarball);
    await writeFile(tarball, bytes.subarray(0, bytes.length - 40));
    const tmp = await tempDir();
    // The executable's smoke test of a failure (and a process of its own, for its own TMPDIR).
    const result = await relupProcess(["inspect", tarball], { TMPDIR: tmp });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`relup: ${tarball}: is not a complete .tar.gz release`);
    expect(result.stderr).toContain("Fix:");
    expect((await readdir(out)).sort()).toEqual(["calculator-1.0.0", "calculator-1.0.0.tar.gz"]);
    // tsx keeps its compile cache in TMPDIR too; that is the only thing allowed there
    expect((await readdir(tmp)).filter((name) => !name.startsWith("tsx-"))).toEqual([]);
  });

  it("bad usage exits 2 and points to --help", async () => {
    const result = await relup(["frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Unknown argument: frobnicate");
    expect(result.stderr).toContain("relup --help");
  });

  it("a command missing its argument exits 2 with that command's usage line and help", async () => {
    const result = await relup(["permanent", "--root", await tempDir()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Usage: relup permanent <vsn> [options]");
    expect(result.stderr).toContain("`relup permanent --help`");
  });

  it("a broken project exits 2 with the file and field named", async () => {
    const result = await relup(["build", "fixtures"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("fixtures/relup.config.json: not found");
  });

  it("`relup --help` lists every command, and each command's help shows an example", async () => {
    const top = await help(["--help"]);
    const commands = [...top.matchAll(/^ {2}relup (\w+)/gm)].map((m) => m[1]);
    expect(commands).toEqual(["init", "build", "inspect", "generate", "verify", "start", "status", "processes", "stop", "unpack", "apply", "permanent", "rollback", "remove", "releases", "keygen", "sign", "fleet", "observe"]);
    for (const command of commands) expect(await help([command!, "--help"])).toMatch(/Examples:\n {2}relup /);
  });
});

describe("relup generate", () => {
  async function builds(): Promise<{ out: string; v1: string; v2: string }> {
    const out = await tempDir();
    await relup(["build", "fixtures/calculator/1.0.0", "--out", out]);
    await relup(["build", "fixtures/calculator/1.1.0", "--out", out]);
    return { out, v1: path.join(out, "calculator-1.0.0.tar.gz"), v2: path.join(out, "calculator-1.1.0") };
  }

  it("prints the plan, writes relup.json with -o, and --check passes on a fresh plan", async () => {
    const { out, v1, v2 } = await builds();
    const plan = path.join(out, "relup.json");
    const printed = await relup(["generate", v1, v2, "--format", "text", "-o", plan]);
    expect(printed.code).toBe(0);
    expect(printed.stdout.split("\n")[0]).toBe("calculator 1.0.0 → 1.1.0: 1 module reloaded, 0 stateful updates, 0 restarts");
    expect(printed.stderr).toBe(`wrote ${plan}\n`);
    expect(JSON.parse(await readFile(plan, "utf8"))).toMatchObject({ format: 1, release: "calculator", from: { version: "1.0.0" }, to: { version: "1.1.0" } });
    const check = await relup(["generate", v1, v2, "-o", plan, "--check"]);
    expect(check).toMatchObject({ code: 0, stdout: `${plan}: up to date with calculator 1.0.0 → 1.1.0\n` });
  });

  it("--check catches a hand-edited plan: exit 1 with a readable diff", async () => {
    const { out, v1, v2 } = await builds();
    const plan = path.join(out, "relup.json");
    await relup(["generate", v1, v2, "-o", plan]);
    const edited = (await readFile(plan, "utf8")).replace('"brutal_purge"', '"soft_purge"');
    await writeFile(plan, edited);
    const check = await relup(["generate", v1, v2, "-o", plan, "--check"]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("the committed plan differs from the one generated now");
    expect(check.stderr).toMatch(/^-\s+"prePurge": "soft_purge",$/m);
    expect(check.stderr).toMatch(/^\+\s+"prePurge": "brutal_purge",$/m);
  });

  it("--detailed-exitcode: 3 when the plan has changes", async () => {
    const { v1, v2 } = await builds();
    expect((await relup(["generate", v1, v2, "--detailed-exitcode"])).code).toBe(3);
  });

  it("prints text off a terminal too (terraform's convention); --format json and --json print the relup file itself", async () => {
    const { v1, v2 } = await builds();
    const text = await relup(["generate", v1, v2]);
    expect(text.stdout.split("\n")[0]).toBe("calculator 1.0.0 → 1.1.0: 1 module reloaded, 0 stateful updates, 0 restarts");
    for (const flags of [["--format", "json"], ["--json"]]) {
      const printed = await relup(["generate", v1, v2, ...flags]);
      expect(JSON.parse(printed.stdout).up.map((i: { op: string }) => i.op)).toEqual(["load_object_code", "point_of_no_return", "load"]);
    }
    expect(await relup(["generate", v1, v2, "--json", "--format", "text"])).toMatchObject({ code: 2, stderr: expect.stringContaining("give one of them") });
  });

  it("-o with a folder writes <folder>/<from>-<to>.json (making the folder for a trailing /), and --check compares with that file", async () => {
    const { out, v1, v2 } = await builds();
    const plans = path.join(out, "project", "plans") + "/";
    const written = await relup(["generate", v1, v2, "-o", plans]);
    expect(written).toMatchObject({ code: 0, stderr: `wrote ${path.join(plans, "1.0.0-1.1.0.json")}\n` });
    expect(await readdir(plans)).toEqual(["1.0.0-1.1.0.json"]);
    // An existing folder, named without the slash, is a folder too.
    expect(await relup(["generate", v1, v2, "-o", plans.slice(0, -1), "--check"])).toMatchObject({ code: 0, stdout: `${path.join(plans, "1.0.0-1.1.0.json")}: up to date with calculator 1.0.0 → 1.1.0\n` });
  });

  it("a downgrade asked as an upgrade exits 1 with the reason", async () => {
    const { v1, v2 } = await builds();
    const result = await relup(["generate", v2, v1]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("calculator 1.0.0 is not newer than 1.1.0");
  });

  it("a tampered release exits 2 and writes no plan", async () => {
    const { out, v1, v2 } = await builds();
    await writeFile(path.join(v2, "lib", "calculator-1.1.0", "calculator.js"), "module.exports = {}");
    const plan = path.join(out, "relup.json");
    const result = await relup(["generate", v1, v2, "-o", plan]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("calculator.js");
    expect((await readdir(out)).includes("relup.json")).toBe(false);
  });

  it("a plan committed in the project's plans/ ships in the release it upgrades to, and --check still passes", async () => {
    const project = path.join(await tempDir(), "calculator");
    const { cp } = await import("node:fs/promises");
    await cp("fixtures/calculator/1.1.0", project, { recursive: true });
    const out = await tempDir();
    await relup(["build", "fixtures/calculator/1.0.0", "--out", out]);
    await relup(["build", project, "--out", out]);
    const [v1, v2] = [path.join(out, "calculator-1.0.0.tar.gz"), path.join(out, "calculator-1.1.0.tar.gz")];
    const plans = path.join(project, "plans") + "/";
    expect((await relup(["generate", v1, v2, "-o", plans])).code).toBe(0);
    // Same release with one more plan: no --force needed.
    expect((await relup(["build", project, "--out", out])).code).toBe(0);
    expect((await relup(["inspect", v2])).stdout).toContain("verified calculator 1.1.0");
    expect(JSON.parse(await readFile(path.join(out, "calculator-1.1.0", "release.json"), "utf8")).files).toHaveProperty(["plans/1.0.0-1.1.0.json"]);
    expect(await relup(["generate", v1, v2, "-o", plans, "--check"])).toMatchObject({ code: 0 });
  });

  it("--check compares JSON, not bytes: a reformatted plan is not drift", async () => {
    const { out, v1, v2 } = await builds();
    const plan = path.join(out, "relup.json");
    await relup(["generate", v1, v2, "-o", plan]);
    await writeFile(plan, JSON.stringify(JSON.parse(await readFile(plan, "utf8"))).replace(/\n/g, "\r\n"));
    expect((await relup(["generate", v1, v2, "-o", plan, "--check"])).code).toBe(0);
  });

  it("bad usage of -o and --check exits 2 with the fix", async () => {
    const { v1, v2 } = await builds();
    expect(await relup(["generate", v1, v2, "--check"])).toMatchObject({ code: 2, stderr: expect.stringContaining("add `-o plans/`") });
    expect(await relup(["generate", v1, v2, "-o", "/nonexistent/dir/relup.json"])).toMatchObject({ code: 2, stderr: expect.stringContaining("cannot write the plan") });
  });

  it("-o plans without a slash is the plans folder, made if missing; a file named plans in a project is refused with the fix", async () => {
    const { out, v1, v2 } = await builds();
    expect((await relup(["generate", v1, v2, "-o", path.join(out, "plans")])).code).toBe(0);
    expect(await readdir(path.join(out, "plans"))).toEqual(["1.0.0-1.1.0.json"]);
    const project = path.join(await tempDir(), "calc");
    await cp("fixtures/calculator/1.0.0", project, { recursive: true });
    await writeFile(path.join(project, "plans"), "not a folder");
    const built = await relup(["build", project, "--out", await tempDir()]);
    expect(built.code).toBe(2);
    expect(built.stderr).toContain(`${path.join(project, "plans")}: plans: cannot be read as the plans folder (ENOTDIR)`);
    expect(built.stderr).not.toContain("internal error");
  });
});
