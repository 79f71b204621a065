/**
 * runCli, the command line as a function (what the `relup` executable and the tests run): a run leaves
 * nothing process-wide behind, whatever its exit (no signal listener, no process.exitCode, the same
 * working directory and environment), prints help and bad usage through its Io, and gives the processes
 * and threads it starts the environment it was given, not the process's.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bufferIo } from "../src/cli/io.ts";
import { runCli } from "../src/cli/run-cli.ts";
import { writeProject } from "./helpers/project.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();

/** What a command could leave behind in the process that ran it. */
function processState() {
  return {
    listeners: ["SIGINT", "SIGTERM", "exit", "beforeExit", "uncaughtException", "unhandledRejection"].map((event) => process.listenerCount(event)),
    exitCode: process.exitCode,
    cwd: process.cwd(),
    env: { ...process.env },
  };
}

async function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const io = bufferIo();
  const code = await runCli(args, io, env);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("runCli", () => {
  it("leaves nothing process-wide behind: exits 0, 1, 2 and 3 are returned, not set on the process", async () => {
    const before = processState();
    const out = await tempDir();
    expect(await run(["build", "fixtures/calculator/1.0.0", "--out", out])).toMatchObject({ code: 0, stdout: expect.stringContaining("built calculator 1.0.0") });
    expect((await run(["build", "fixtures/calculator/1.1.0", "--out", out])).code).toBe(0);
    const [v1, v2] = [path.join(out, "calculator-1.0.0.tar.gz"), path.join(out, "calculator-1.1.0.tar.gz")];
    expect((await run(["generate", v1, v2, "--detailed-exitcode"])).code).toBe(3);
    expect((await run(["generate", v2, v1])).code).toBe(1);
    expect(await run(["frobnicate"])).toMatchObject({ code: 2, stdout: "", stderr: expect.stringContaining("Unknown argument: frobnicate") });
    expect(processState()).toEqual(before);
  });

  it("prints --help and --version through its Io", async () => {
    const help = await run(["--help"]);
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout).toMatch(/^ {2}relup verify \[from\] \[to\]/m);
    expect(help.stdout.endsWith("\n")).toBe(true);
    const version = await run(["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/), stderr: "" });
  });

  it("a failing verify exits 1 through its return value, and what the release's code prints goes to its Io's stderr", async () => {
    const dir = await tempDir();
    const config = (version: string) => ({ format: 1, name: "demo", version, applications: [{ name: "demo", version }] });
    const store = (vsn: number, code: string) =>
      `import { z } from "relup/runtime";\nexport const behaviour = "server";\nexport const vsn = ${vsn};\nexport function init() { return { n: 0 }; }\n` +
      `export const stateSchema = z.object({ n: z.int() });\n${code}`;
    // codeChange reads an environment variable that only the env given to runCli has.
    const codeChange = `export function codeChange(v, s) { console.log("migrating with", process.env.RELUP_TEST_MARK); if (process.env.RELUP_TEST_MARK !== "given") throw new Error("not the given env"); return s; }\n`;
    await writeProject(path.join(dir, "v1"), { config: config("1.0.0"), files: { "apps/demo/store.ts": store(1, "") } });
    await writeProject(path.join(dir, "v2"), { config: config("1.1.0"), files: { "apps/demo/store.ts": store(2, codeChange) } });
    const build = path.join(dir, "build");
    for (const v of ["v1", "v2"]) expect((await run(["build", path.join(dir, v), "--out", build])).code).toBe(0);
    const [from, to] = [path.join(build, "demo-1.0.0.tar.gz"), path.join(build, "demo-1.1.0.tar.gz")];
    const before = processState();
    const given = await run(["verify", from, to, "--runs", "5"], { ...process.env, RELUP_TEST_MARK: "given" });
    expect(given).toMatchObject({ code: 0, stderr: expect.stringContaining("migrating with given") });
    expect(given.stdout).not.toContain("migrating with");
    const other = await run(["verify", from, to, "--runs", "5"], { ...process.env, RELUP_TEST_MARK: "other" });
    expect(other).toMatchObject({ code: 1, stdout: expect.stringContaining("not the given env") });
    expect(processState()).toEqual(before);
  });
});
