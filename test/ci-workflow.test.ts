/**
 * The pull-request workflow of docs/ci.md, run without GitHub: its `run:` steps, read from the document,
 * in order, in a real git repository where a pull request upgrades the counter from 1.0.0 (tagged) to
 * 2.0.0 with its committed plan. The sticky comment's body is compared byte for byte with a golden file;
 * a committed plan edited by hand makes the check step fail.
 */
import { execFile } from "node:child_process";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { relup, shellRelup } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";
import { CI_WORKFLOW } from "../src/release/ci-workflow.ts";

const tempDir = useTempDirs();
const ROOT = path.join(import.meta.dirname, "..");
const run = promisify(execFile);

interface Step {
  name?: string;
  uses?: string;
  run?: string;
}

/** The workflow's job env and steps, from the one YAML block of docs/ci.md (the shape written there). */
async function workflow(): Promise<{ env: Record<string, string>; steps: Step[] }> {
  const doc = await readFile(path.join(ROOT, "docs", "ci.md"), "utf8");
  const blocks = [...doc.matchAll(/```yaml\n([^]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toHaveLength(1);
  // The workflow relup init writes is this one, byte for byte.
  expect(blocks[0]).toBe(CI_WORKFLOW);
  const lines = blocks[0]!.split("\n");
  const env: Record<string, string> = {};
  const steps: Step[] = [];
  let section = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^ {4}env:$/.test(line)) section = "env";
    else if (/^ {4}steps:$/.test(line)) section = "steps";
    else if (section === "env" && /^ {6}\w+: /.test(line)) {
      const [, key, value] = /^ {6}(\w+): (.*)$/.exec(line)!;
      env[key!] = value!;
    } else if (section === "steps") {
      const item = /^ {6}- (name|uses): (.*)$/.exec(line);
      if (item) steps.push({ [item[1]!]: item[2]! });
      const runLine = /^ {8}run: (.*)$/.exec(line);
      if (runLine && runLine[1] !== "|") steps.at(-1)!.run = runLine[1]!;
      else if (runLine) {
        const body: string[] = [];
        while (i + 1 < lines.length && (lines[i + 1]!.startsWith("          ") || lines[i + 1] === "")) body.push(lines[++i]!.slice(10));
        steps.at(-1)!.run = body.join("\n").trimEnd() + "\n";
      }
    }
  }
  return { env, steps };
}

const git = (cwd: string, ...args: string[]) => run("git", args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" } });

/** Replace the repository's files (all but .git and plans/) with those of a fixture version. */
async function checkoutFixture(repo: string, fixture: string): Promise<void> {
  await rm(path.join(repo, "apps"), { recursive: true, force: true });
  await cp(fixture, repo, { recursive: true });
}

/** A git repository on `main` holding counter 1.0.0, committed. */
async function repoOnCounter1(): Promise<string> {
  const repo = path.join(await tempDir(), "repo");
  await mkdir(repo);
  await git(repo, "init", "-q", "-b", "main");
  await checkoutFixture(repo, path.join(ROOT, "fixtures", "counter", "1.0.0"));
  await git(repo, "add", "-A");
  await git(repo, "commit", "-qm", "counter 1.0.0");
  return repo;
}

/** Commit the work on `branch` and merge it into main: what a pull_request workflow checks out. */
async function mergePullRequest(repo: string, branch: string, message: string): Promise<void> {
  await git(repo, "add", "-A");
  await git(repo, "commit", "-qm", message);
  await git(repo, "checkout", "-q", "main");
  await git(repo, "merge", "-q", "--no-ff", "-m", `Merge ${branch}`, branch);
}

/** Runs a step as GitHub's `bash` shell does: `-e -o pipefail`, in the checkout. */
async function runStep(step: Step, cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run!], { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The steps that need GitHub or the network: installing the repository's packages, and posting the comment. */
const OFFLINE_SKIPPED = ["Install", "Post or update the plan comment"];

describe("the pull-request workflow (docs/ci.md), run on a real repository without GitHub", () => {
  it("builds the previous release and the head, writes the sticky comment byte for byte, and checks the plan and its migrations", async () => {
    const { env, steps } = await workflow();
    expect(steps.map((s) => s.name ?? s.uses)).toEqual([
      "actions/checkout@v4",
      "actions/setup-node@v4",
      "Install",
      "Build the previous release and the head",
      "Write the plan comment",
      "Post or update the plan comment",
      "The committed plan is the one generated now",
      "State migrations verify",
    ]);

    // main: counter 1.0.0, released as v1.0.0.
    const repo = await repoOnCounter1();
    await git(repo, "tag", "v1.0.0");
    // The pull request: counter 2.0.0 and its plan, written as a developer does.
    await git(repo, "checkout", "-qb", "upgrade");
    await checkoutFixture(repo, path.join(ROOT, "fixtures", "counter", "2.0.0"));
    const builds = await tempDir();
    for (const v of ["1.0.0", "2.0.0"]) expect((await relup(["build", path.join(ROOT, "fixtures", "counter", v), "--out", builds])).code).toBe(0);
    expect((await relup(["generate", path.join(builds, "counter-1.0.0.tar.gz"), path.join(builds, "counter-2.0.0.tar.gz"), "-o", path.join(repo, "plans") + "/"])).code).toBe(0);
    await mergePullRequest(repo, "upgrade", "counter 2.0.0");

    const runnerTemp = await tempDir();
    const stepEnv = { ...env, RELUP: shellRelup(), RUNNER_TEMP: runnerTemp };
    for (const step of steps) {
      if (step.run === undefined || OFFLINE_SKIPPED.includes(step.name!)) continue;
      const result = await runStep(step, repo, stepEnv);
      expect(result, step.name).toMatchObject({ code: 0 });
      if (step.name === "Build the previous release and the head") expect(result.stdout).toContain("previous release: v1.0.0");
      if (step.name === "The committed plan is the one generated now") expect(result.stdout).toMatch(/plans\/1\.0\.0-2\.0\.0\.json: up to date with counter 1\.0\.0 → 2\.0\.0\n$/);
      if (step.name === "State migrations verify") expect(result.stdout).toContain("seed 1");
    }
    const comment = await readFile(path.join(runnerTemp, "relup", "comment.md"), "utf8");
    expect(comment.split("\n")[0]).toBe("<!-- relup-plan-comment -->");
    await expect(comment).toMatchFileSnapshot(path.join(ROOT, "fixtures", "counter", "plan.comment.md"));

    // A plan edited by hand after it was generated: the check step fails with the diff and the fix.
    const plan = path.join(repo, "plans", "1.0.0-2.0.0.json");
    await writeFile(plan, (await readFile(plan, "utf8")).replace('"brutal_purge"', '"soft_purge"'));
    const check = steps.find((s) => s.name === "The committed plan is the one generated now")!;
    const drifted = await runStep(check, repo, stepEnv);
    expect(drifted.code).toBe(1);
    expect(drifted.stderr).toContain("the committed plan differs from the one generated now");
    expect(drifted.stderr).toContain("Fix: review the change, then write it with `relup generate");
  }, 240_000);

  it("a repository with no v* tag yet, and a head that keeps the released version: the build step says so and skips the plan steps", async () => {
    const { env, steps } = await workflow();
    const build = steps.find((s) => s.name === "Build the previous release and the head")!;
    const repo = await repoOnCounter1();
    await git(repo, "checkout", "-qb", "docs");
    await writeFile(path.join(repo, "NOTES.md"), "notes\n");
    await mergePullRequest(repo, "docs", "notes");
    const runnerTemp = await tempDir();
    const output = path.join(runnerTemp, "github-output");
    const stepEnv = { ...env, RELUP: shellRelup(), RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: output };

    const untagged = await runStep(build, repo, stepEnv);
    expect(untagged).toMatchObject({ code: 0, stdout: expect.stringContaining("no v* tag before this pull request") });
    expect(await readFile(output, "utf8")).toBe("skip=true\n");

    await git(repo, "tag", "v1.0.0", "main^1");
    await rm(output);
    const same = await runStep(build, repo, { ...stepEnv, RUNNER_TEMP: await tempDir() });
    expect(same).toMatchObject({ code: 0, stdout: expect.stringContaining("the head has the version of v1.0.0: no upgrade to plan") });
    expect(await readFile(output, "utf8")).toBe("skip=true\n");
    // Every later step is skipped on that output.
    expect((await readFile(path.join(ROOT, "docs", "ci.md"), "utf8")).match(/if: steps\.build\.outputs\.skip != 'true'/g)).toHaveLength(4);
  }, 120_000);
});
