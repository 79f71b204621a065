/**
 * The compiled copy of relup's sources that the tests' processes and worker threads start from
 * (RELUP_COMPILED_SOURCES, test/setup/compiled-sources.ts): keyed by the sources, so never stale; chosen
 * by entry-args only when running from the sources; and, when absent, children start through tsx as on
 * a developer's checkout, with the same results.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { buildRelease } from "../src/relup/build-with-plans.ts";
import { entryArgs, FROM_SOURCES, workerEntry } from "../src/runtime/entry-args.ts";
import type { VerifyReport } from "../src/verify/report.ts";
import { verifyReleases } from "../src/verify/verify-releases.ts";
import { compileSources } from "./setup/compiled-sources.ts";
import { relupProcess } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();
const SRC = path.join(import.meta.dirname, "..", "src");
const saved = process.env.RELUP_COMPILED_SOURCES;
afterEach(() => {
  process.env.RELUP_COMPILED_SOURCES = saved;
});

describe("compileSources", () => {
  it("compiles each source to a file of its own; an edited source is a new folder, the same sources the same folder", async () => {
    const repo = await tempDir();
    await mkdir(path.join(repo, "src", "lib"), { recursive: true });
    await writeFile(path.join(repo, "tsconfig.json"), "{}");
    await writeFile(path.join(repo, "package.json"), `{ "type": "module" }\n`);
    await writeFile(path.join(repo, "src", "main.ts"), `import { word } from "./lib/word.ts";\nconst n: number = 2;\nconsole.log(word(), n);\n`);
    await writeFile(path.join(repo, "src", "lib", "word.ts"), `export const word = (): string => "one";\n`);
    await writeFile(path.join(repo, "src", "main.test.ts"), `this file is never compiled`);
    const run = async (dir: string) => (await promisify(execFile)(process.execPath, [path.join(dir, "main.js")])).stdout;

    const first = await compileSources(repo);
    expect(path.dirname(path.dirname(first))).toBe(path.join(repo, ".tmp", "compiled-sources"));
    expect(path.basename(first)).toBe("src");
    // beside it, the package.json the CLI reads as ../../package.json from src/cli
    expect(await readFile(path.join(first, "..", "package.json"), "utf8")).toBe(await readFile(path.join(repo, "package.json"), "utf8"));
    expect(await run(first)).toBe("one 2\n");
    // each module is its own file, importing the others: no bundle that would hide a module's own scope
    expect(await readFile(path.join(first, "main.js"), "utf8")).toContain(`from "./lib/word.js"`);
    await expect(readFile(path.join(first, "main.test.js"))).rejects.toThrow(/ENOENT/);

    expect(await compileSources(repo)).toBe(first);
    await writeFile(path.join(repo, "src", "lib", "word.ts"), `export const word = (): string => "two";\n`);
    const second = await compileSources(repo);
    expect(second).not.toBe(first);
    expect(await run(second)).toBe("two 2\n");
    // the folder of the other sources is kept for an hour, for a run that may still use it
    expect(await run(first)).toBe("one 2\n");
  });
});

describe("entry points from the sources", () => {
  it("start from the compiled copy when RELUP_COMPILED_SOURCES names one, through tsx when not", () => {
    expect(FROM_SOURCES).toBe(true);
    process.env.RELUP_COMPILED_SOURCES = "/compiled";
    expect(entryArgs("node-main")).toEqual(["/compiled/runtime/node-main.js"]);
    expect(workerEntry(path.join(SRC, "verify"), "worker")).toBe("/compiled/verify/worker.js");
    process.env.RELUP_COMPILED_SOURCES = "";
    const viaTsx = entryArgs("node-main");
    expect(viaTsx).toEqual(["--import", expect.stringMatching(/^file:.*\/tsx\//), path.join(SRC, "runtime", "node-main.ts")]);
    expect(workerEntry(path.join(SRC, "verify"), "worker")).toBe(path.join(SRC, "verify", "worker-entry.mjs"));
  });

  it("the test setup compiled the current sources, and a build and a verify through tsx give what they give from the compiled copy", async () => {
    expect(saved).toBe(await compileSources(path.join(SRC, "..")));
    const out = await tempDir();
    const viaTsx = await tempDir();
    // the build records each stateSchema's shape in a worker thread; verify runs codeChange in one
    const from = await buildRelease({ dir: "fixtures/counter/1.0.0", out });
    const to = await buildRelease({ dir: "fixtures/counter/2.0.0", out });
    const noCopy = { RELUP_COMPILED_SOURCES: "" };
    expect((await relupProcess(["build", "fixtures/counter/2.0.0", "--out", viaTsx], noCopy, 60_000)).code).toBe(0);
    expect(await readFile(path.join(viaTsx, "counter-2.0.0.tar.gz"))).toEqual(await readFile(to.tarball));
    const run = await relupProcess(["verify", from.tarball, to.tarball, "--runs", "20", "--seed", "5", "--json"], noCopy, 60_000);
    expect(run.code).toBe(0);
    const withoutMs = ({ ms: _ms, modules, ...rest }: VerifyReport) => ({ ...rest, modules: modules.map(({ ms: _m, ...m }) => m) });
    const viaTsxReport = withoutMs(JSON.parse(run.stdout) as VerifyReport);
    expect(viaTsxReport).toEqual(withoutMs(await verifyReleases({ from: from.tarball, to: to.tarball, runs: 20, seed: 5 })));
    expect(viaTsxReport).toMatchObject({ seed: 5, modules: [{ module: "counter/counter", status: "verified" }] });
  });
});
