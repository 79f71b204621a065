/**
 * Plans per upgrade path, with three versions of one project as it evolves in a repository: 1.0.0, then
 * 2.0.0 with plans/1.0.0-2.0.0.json, then 3.0.0 with plans/2.0.0-3.0.0.json and plans/1.0.0-3.0.0.json
 * side by side. The build never stops on a plan for another version, ships every plan that leads to the
 * release, and `relup apply` follows the one from the running version (OTP's UpFrom list), or refuses
 * with the paths the release has.
 */
import { cp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../src/net-helpers.ts";
import { Launcher } from "../src/runtime/launcher.ts";
import { readReleasesFile } from "../src/runtime/releases-file.ts";
import { shippedRollbackPlan } from "../src/runtime/shipped-rollback-plan.ts";
import { prepareRoot } from "../src/runtime/start-release.ts";
import { relup } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";

const tempDir = useTempDirs();
let work: string;
let project: string;
let out: string;
const tarball = (version: string, dir = out) => path.join(dir, `calculator-${version}.tar.gz`);

/** The project at `version`: calculator's `add` multiplies both operands by `factor`. */
async function evolve(version: string, factor: number): Promise<void> {
  const config = JSON.parse(await readFile(path.join(project, "relup.config.json"), "utf8")) as { version: string; applications: { version: string }[] };
  config.version = version;
  config.applications[0]!.version = version;
  await writeFile(path.join(project, "relup.config.json"), JSON.stringify(config, null, 2) + "\n");
  await writeFile(path.join(project, "apps", "calculator", "calculator.ts"), `export function add(a: number, b: number): number {\n  return a * ${factor} + b * ${factor};\n}\n`);
}

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const result = await relup(args);
  expect(result, `relup ${args.join(" ")}`).toMatchObject({ code: 0 });
  return result;
}

const shippedPlans = async (version: string) => Object.keys(JSON.parse(await readFile(path.join(out, `calculator-${version}`, "release.json"), "utf8")).files).filter((f: string) => f.startsWith("plans/"));

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "relup-plans-"));
  project = path.join(work, "calculator");
  out = path.join(work, "build");
  await cp("fixtures/calculator/1.0.0", project, { recursive: true });
  await ok(["build", project, "--out", out]);
  await evolve("2.0.0", 2);
  await ok(["build", project, "--out", out]);
  await ok(["generate", tarball("1.0.0"), tarball("2.0.0"), "-o", path.join(project, "plans") + "/"]);
  // The same release with its plan: rebuilt without --force.
  await ok(["build", project, "--out", out]);
  await evolve("3.0.0", 3);
  // plans/1.0.0-2.0.0.json leads to 2.0.0: it neither stops nor ships in the 3.0.0 build.
  await ok(["build", project, "--out", out]);
  await ok(["generate", tarball("2.0.0"), tarball("3.0.0"), "-o", path.join(project, "plans") + "/"]);
  await ok(["generate", tarball("1.0.0"), tarball("3.0.0"), "-o", path.join(project, "plans") + "/"]);
  await ok(["build", project, "--out", out]);
}, 180_000);

afterEach(async () => {
  for (const l of launchers.splice(0)) await l.stop();
});
const launchers: Launcher[] = [];

/** A node running 1.0.0 in a fresh root, its HTTP port in config.json. */
async function nodeAt1(): Promise<{ root: string; port: number }> {
  const root = path.join(await tempDir(), "root");
  await prepareRoot(root, tarball("1.0.0"));
  const port = await freePort();
  await writeFile(path.join(root, "config.json"), JSON.stringify({ calculator: { port } }));
  const launcher = new Launcher({ root, minBackoffMs: 10 });
  launchers.push(launcher);
  await launcher.start();
  return { root, port };
}

/** 3.0.0 built into a folder of its own without plans/1.0.0-3.0.0.json, which is then written again. */
async function buildWithoutPlanFrom1(label: string): Promise<string> {
  const dir = path.join(await tempDir(), label);
  await rm(path.join(project, "plans", "1.0.0-3.0.0.json"));
  try {
    await ok(["build", project, "--out", dir]);
  } finally {
    await ok(["generate", tarball("1.0.0"), tarball("3.0.0"), "-o", path.join(project, "plans") + "/"]);
  }
  return dir;
}

const answer = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/calculate/2/2`)).text()).trim();

describe("plans per upgrade path: 1 → 2, 2 → 3 and 1 → 3", () => {
  it("each release ships every committed plan that leads to it, and --check passes on each file", async () => {
    expect(await readdir(path.join(project, "plans"))).toEqual(["1.0.0-2.0.0.json", "1.0.0-3.0.0.json", "2.0.0-3.0.0.json"]);
    expect(await shippedPlans("1.0.0")).toEqual([]);
    expect(await shippedPlans("2.0.0")).toEqual(["plans/1.0.0-2.0.0.json"]);
    expect(await shippedPlans("3.0.0")).toEqual(["plans/1.0.0-3.0.0.json", "plans/2.0.0-3.0.0.json"]);
    for (const [from, to] of [["1.0.0", "2.0.0"], ["2.0.0", "3.0.0"], ["1.0.0", "3.0.0"]] as const) {
      const check = await ok(["generate", tarball(from), tarball(to), "-o", path.join(project, "plans"), "--check"]);
      expect(check.stdout).toBe(`${path.join(project, "plans", `${from}-${to}.json`)}: up to date with calculator ${from} → ${to}\n`);
    }
    expect((await relup(["inspect", tarball("3.0.0")])).code).toBe(0);
  });

  it("apply follows the plan from the running version: 1 → 2 → 3 on one node, 1 → 3 on another", async () => {
    const a = await nodeAt1();
    expect(await answer(a.port)).toBe("4");
    const to2 = await ok(["apply", tarball("2.0.0"), "--root", a.root, "--yes"]);
    expect(to2.stderr).toContain("using the plan shipped in 2.0.0 (plans/1.0.0-2.0.0.json)");
    expect(await answer(a.port)).toBe("8");
    const to3 = await ok(["apply", tarball("3.0.0"), "--root", a.root, "--yes"]);
    expect(to3.stderr).toContain("using the plan shipped in 3.0.0 (plans/2.0.0-3.0.0.json)");
    expect(await answer(a.port)).toBe("12");
    // Back to 2.0.0 by the down section of the plan that led here.
    await ok(["rollback", "--root", a.root]);
    expect(await answer(a.port)).toBe("8");

    const b = await nodeAt1();
    const direct = await ok(["apply", tarball("3.0.0"), "--root", b.root, "--yes"]);
    expect(direct.stderr).toContain("using the plan shipped in 3.0.0 (plans/1.0.0-3.0.0.json)");
    expect(await answer(b.port)).toBe("12");
  }, 120_000);

  it("a release that ships plans, none from the running version, is refused with the paths it has, and nothing changes", async () => {
    // 3.0.0 built with only the plan from 2.0.0: a node on 1.0.0 has no plan to follow.
    const only = await buildWithoutPlanFrom1("only-from-2");
    const node = await nodeAt1();
    const refused = await relup(["apply", tarball("3.0.0", only), "--root", node.root, "--yes"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("3.0.0 ships no plan from 1.0.0: it ships plans/2.0.0-3.0.0.json (the upgrades from 2.0.0)");
    expect(refused.stderr).toContain("--plan plans/1.0.0-3.0.0.json");
    expect(await answer(node.port)).toBe("4");
    expect((await readReleasesFile(node.root))!.releases.map((r) => r.version)).toEqual(["1.0.0"]);
  }, 120_000);

  it("the same build unpacked again with a plan added since: the root gets its plans, and apply follows the new one", async () => {
    const early = await buildWithoutPlanFrom1("early");
    const node = await nodeAt1();
    await ok(["unpack", tarball("3.0.0", early), "--root", node.root]);
    // The release with both plans: same identity, so the node had answered "already unpacked" and kept the old plans.
    const again = await ok(["unpack", tarball("3.0.0"), "--root", node.root]);
    expect(again.stdout).toContain("the plans it ships changed since, so its directory now holds this build's plans");
    expect((await readdir(path.join(node.root, "releases", "3.0.0", "plans"))).sort()).toEqual(["1.0.0-3.0.0.json", "2.0.0-3.0.0.json"]);
    await ok(["apply", tarball("3.0.0"), "--root", node.root, "--yes"]);
    expect(await answer(node.port)).toBe("12");
    expect(await readdir(path.join(node.root, "releases"))).not.toContain(expect.stringMatching(/replaced/));
  }, 120_000);

  it("a shipped plan edited by hand after generation is refused like a --plan file, unless --allow-edited-plan", async () => {
    const edited = path.join(await tempDir(), "edited");
    const planFile = path.join(project, "plans", "1.0.0-3.0.0.json");
    const original = await readFile(planFile, "utf8");
    await writeFile(planFile, original.replace('"brutal_purge"', '"soft_purge"'));
    try {
      await ok(["build", project, "--out", edited]);
    } finally {
      await writeFile(planFile, original);
    }
    const node = await nodeAt1();
    const refused = await relup(["apply", tarball("3.0.0", edited), "--root", node.root, "--yes"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("plans/1.0.0-3.0.0.json is not the plan `relup generate` makes for these releases");
    expect(await answer(node.port)).toBe("4");
    await ok(["apply", tarball("3.0.0", edited), "--root", node.root, "--yes", "--allow-edited-plan"]);
    expect(await answer(node.port)).toBe("12");
  }, 120_000);

  it("a node restarted on 3.0.0 with no install record rolls back to 2.0.0, live, by the plan 3.0.0 ships from it", async () => {
    const { root, port } = await nodeAt1();
    await ok(["apply", tarball("2.0.0"), "--root", root, "--yes", "--permanent"]);
    await ok(["apply", tarball("3.0.0"), "--root", root, "--yes", "--permanent"]);
    // A restart (a new launcher) with the install record gone: only the shipped plans lead back.
    await launchers.pop()!.stop();
    await rm(path.join(root, "run", "last-install.json"), { force: true });
    const launcher = new Launcher({ root, minBackoffMs: 10 });
    launchers.push(launcher);
    await launcher.start();
    expect(await answer(port)).toBe("12");
    await ok(["rollback", "--root", root]);
    expect(await answer(port)).toBe("8");
  }, 120_000);

  it("the node's way back without an install record is the shipped plan from the release it came from", async () => {
    const root = path.join(await tempDir(), "root");
    await prepareRoot(root, tarball("1.0.0"));
    const releases = (await readReleasesFile(root))!.releases;
    const identity = releases[0]!.identity;
    const dir = path.join(out, "calculator-3.0.0");
    // Only 1.0.0 is held: the plan from 1.0.0, though 3.0.0 also ships one from 2.0.0.
    expect((await shippedRollbackPlan(dir, "3.0.0", releases))?.from.version).toBe("1.0.0");
    const two = JSON.parse(await readFile(path.join(dir, "plans", "2.0.0-3.0.0.json"), "utf8")) as { from: { identity: string } };
    const both = [
      { version: "1.0.0", status: "unpacked" as const, identity },
      { version: "2.0.0", status: "old" as const, identity: two.from.identity },
    ];
    // Both held: the one that was permanent before ("old").
    expect((await shippedRollbackPlan(dir, "3.0.0", both))?.from.version).toBe("2.0.0");
    // A held 2.0.0 of another build is not the release the plan leads from.
    expect((await shippedRollbackPlan(dir, "3.0.0", [{ ...both[1]!, identity: "0".repeat(64) }]))).toBeUndefined();
  });
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
