/**
 * Plans that were reviewed are the plans that run: through the real CLI on a real node, a hand-edited
 * plan is refused by the node when it no longer does what the two releases need (a state migration
 * deleted, an application stopped for no reason), in either section, naming the step; a harmless edit
 * passes. `relup apply --plan` refuses any plan that is not the one `relup generate` makes for the two
 * releases unless --allow-edited-plan is given.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { get } from "../../src/net-helpers.ts";
import type { Instruction, RelupFile } from "../../src/relup/instruction.ts";
import { loadReleaseModel } from "../../src/relup/load-release-model.ts";
import { planReleases } from "../../src/relup/plan-releases.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import { readReleasesFile } from "../../src/runtime/releases-file.ts";
import { WORKERS, workerV2, writeFleet } from "../helpers/fleet.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

async function fleet() {
  const dir = await tempDir();
  const node = await liveNode({ dir, from: await writeFleet(dir, { version: "1.0.0" }), to: await writeFleet(dir, { version: "2.0.0", worker: workerV2() }), app: "fleet" });
  const json = async (p: string) => JSON.parse(await get(node.port, p));
  await json("/bump");
  const plan = (await planReleases({ from: node.v1, to: node.v2 })).file;
  /** write an edited copy of the generated plan; returns its path */
  const edited = async (edit: (plan: RelupFile) => RelupFile) => {
    const file = path.join(node.out, `edited-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, JSON.stringify(edit(structuredClone(plan))));
    return file;
  };
  return { ...node, json, plan, edited };
}

type Fleet = Awaited<ReturnType<typeof fleet>>;

/** The node still runs 1.0.0, old code and state, same process; the attempt's unpack is gone. */
async function expectUnchanged(f: Fleet) {
  expect(await f.json("/code")).toEqual(Array(WORKERS).fill(1));
  expect(await f.json("/state")).toEqual(Array.from({ length: WORKERS }, (_, id) => ({ id, count: 1 })));
  const status = (await controlRequest(f.root, { cmd: "status" })) as { pid: number; release: { version: string } };
  expect(status).toMatchObject({ pid: f.ready.pid, release: { version: "1.0.0" } });
  expect((await readReleasesFile(f.root))?.releases.map((r) => r.version)).toEqual(["1.0.0"]);
}

const without = (script: Instruction[], op: Instruction["op"]) => script.filter((i) => i.op !== op);
const stepOf = (script: Instruction[], op: Instruction["op"]) => script.findIndex((i) => i.op === op) + 1;

describe("the node checks a plan's meaning against the two releases", () => {
  it("a plan whose up code_change was deleted is refused before step one, naming the step and the module; nothing changes", async () => {
    const f = await fleet();
    const file = await f.edited((p) => ({ ...p, up: without(p.up, "code_change") }));
    for (const dryRun of [["--dry-run"], []]) {
      const cli = await relup(["apply", f.v2, "--root", f.root, "--plan", file, "--allow-edited-plan", ...dryRun]);
      expect(cli.code).toBe(1);
      const load = f.plan.up.findIndex((i) => i.op === "load" && i.module === "fleet/worker") + 1;
      expect(cli.stderr).toContain(`up step ${load} (load fleet/worker)`);
      expect(cli.stderr).toMatch(/fleet\/worker.*vsn 1 → 2.*no code_change \(mode up\)/);
      expect(cli.stderr).toContain("Nothing was changed");
      await expectUnchanged(f);
    }
  });

  it("a deleted down code_change is refused too, at apply: a rollback would need it", async () => {
    const f = await fleet();
    const file = await f.edited((p) => ({ ...p, down: without(p.down, "code_change") }));
    const cli = await relup(["apply", f.v2, "--root", f.root, "--plan", file, "--allow-edited-plan"]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/down step \d+ \(load fleet\/worker\).*no code_change \(mode down\)/);
    await expectUnchanged(f);
  });

  it("an inserted apply application.stop is refused, naming the step, the application and why", async () => {
    const f = await fleet();
    const stop: Instruction = { op: "apply", module: "application", function: "stop", args: ["fleet"] };
    const at = stepOf(f.plan.up, "point_of_no_return");
    const file = await f.edited((p) => ({ ...p, up: [...p.up.slice(0, at), stop, ...p.up.slice(at)] }));
    const cli = await relup(["apply", f.v2, "--root", f.root, "--plan", file, "--allow-edited-plan"]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`up step ${at + 1} (apply application.stop)`);
    expect(cli.stderr).toMatch(/`fleet` stays in the release and is not started again/);
    await expectUnchanged(f);
  });

  it("a code_change moved before the load of its module is refused: the old code's codeChange would run, and the new code get old state", async () => {
    const f = await fleet();
    const moved = (up: Instruction[]) => {
      const change = up.find((i) => i.op === "code_change")!;
      const rest = up.filter((i) => i !== change);
      const load = rest.findIndex((i) => i.op === "load" && i.module === "fleet/worker");
      return [...rest.slice(0, load), change, ...rest.slice(load)];
    };
    const file = await f.edited((p) => ({ ...p, up: moved(p.up) }));
    const cli = await relup(["apply", f.v2, "--root", f.root, "--plan", file, "--allow-edited-plan"]);
    expect(cli.code).toBe(1);
    const at = moved(f.plan.up).findIndex((i) => i.op === "code_change") + 1;
    expect(cli.stderr).toContain(`up step ${at} (code_change up fleet/worker): code_change up of \`fleet/worker\` before its load`);
    await expectUnchanged(f);
  });

  it("an application stopped and started before the load, its code_change deleted, is refused: the processes would restart on old code", async () => {
    const f = await fleet();
    const app = (fn: string): Instruction => ({ op: "apply", module: "application", function: fn, args: ["fleet"] });
    const at = stepOf(f.plan.up, "point_of_no_return");
    const file = await f.edited((p) => ({ ...p, up: without([...p.up.slice(0, at), app("stop"), app("start"), ...p.up.slice(at)], "code_change") }));
    const cli = await relup(["apply", f.v2, "--root", f.root, "--plan", file, "--allow-edited-plan"]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/fleet\/worker.*vsn 1 → 2.*no code_change \(mode up\)/);
    await expectUnchanged(f);
  });

  it("a harmless edit (a longer code_change timeout) passes the meaning check and is applied with --allow-edited-plan", async () => {
    const f = await fleet();
    const file = await f.edited((p) => ({
      ...p,
      up: p.up.map((i) => (i.op === "code_change" ? { ...i, modules: i.modules.map((m) => ({ ...m, timeout: 20_000 })) } : i)),
    }));
    const cli = await relup(["apply", f.v2, "--root", f.root, "--plan", file, "--allow-edited-plan"]);
    expect(cli.stderr).toContain(`${file} is not the plan \`relup generate\` makes for these releases`);
    expect(cli).toMatchObject({ code: 0, stdout: expect.stringContaining("upgraded 1.0.0 → 2.0.0") });
    expect(await f.json("/code")).toEqual(Array(WORKERS).fill(2));
  });
});

describe("relup apply --plan: the plan relup generate makes, or --allow-edited-plan", () => {
  it("an edited plan is refused without --allow-edited-plan, with the first differing step; nothing changes", async () => {
    const f = await fleet();
    const file = await f.edited((p) => ({
      ...p,
      up: p.up.map((i) => (i.op === "suspend" ? { ...i, timeout: 9_000 } : i)),
    }));
    const cli = await relup(["apply", f.v2, "--root", f.root, "--plan", file]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`${file} is not the plan \`relup generate\` makes for these releases`);
    expect(cli.stderr).toContain(`up: first differs at step ${stepOf(f.plan.up, "suspend")}`);
    expect(cli.stderr).toContain("down: no difference");
    expect(cli.stderr).toContain("--allow-edited-plan");
    // An unedited plan made by another relup version differs too: the message says so, and the way out.
    expect(cli.stderr).toContain("or it was made by another relup version: regenerate it with this one");
    await expectUnchanged(f);
  });

  it("a release that is not unpacked is not compared: the node says what is wrong and how to fix it", async () => {
    const f = await fleet();
    const file = await f.edited((p) => p);
    const cli = await relup(["apply", "2.0.0", "--root", f.root, "--plan", file]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain("2.0.0 is not unpacked");
    expect(cli.stderr).toContain("relup unpack");
    expect(cli.stderr).not.toContain("missing-file");
    await expectUnchanged(f);
  });

  it("when relup generate makes no plan for the two releases, the refusal says why and does not send the operator to it", async () => {
    const dir = await tempDir();
    // A hand-written appup that stops the application for good: generation refuses it.
    const stop = [{ op: "update", module: "worker", change: { advanced: {} } }, { op: "apply", module: "application", function: "stop", args: ["fleet"] }];
    const appup = { format: 1, application: "fleet", version: "2.0.0", up: [{ from: "1.0.0", instructions: stop }], down: [{ to: "1.0.0", instructions: stop }] };
    const to = await writeFleet(dir, { version: "2.0.0", worker: workerV2(), extraFiles: { "apps/fleet/appup.json": appup } });
    const node = await liveNode({ dir, from: await writeFleet(dir, { version: "1.0.0" }), to, app: "fleet" });
    const stamp = async (tarball: string, version: string) => ({ version, identity: (await loadReleaseModel(tarball)).identity });
    const plan: RelupFile = { format: 1, release: "fleet", from: await stamp(node.v1, "1.0.0"), to: await stamp(node.v2, "2.0.0"), up: [{ op: "point_of_no_return" }], down: [{ op: "point_of_no_return" }], notes: [] };
    const file = path.join(node.out, "hand-made.json");
    await writeFile(file, JSON.stringify(plan));
    const cli = await relup(["apply", node.v2, "--root", node.root, "--plan", file]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("relup generate makes no plan for these releases");
    expect(cli.stderr).toMatch(/stop of application `fleet`/);
    expect(cli.stderr).not.toContain("apply the plan relup generate makes");
    expect(cli.stderr).toContain("--allow-edited-plan");
    expect(cli.stderr).toContain("Nothing was changed");
  });

  it("a plan whose notes alone were edited is the generated plan: applied without the flag", async () => {
    const f = await fleet();
    const file = await f.edited((p) => ({ ...p, notes: [...p.notes].reverse().concat("reviewed by ops") }));
    const cli = await relup(["apply", f.v2, "--root", f.root, "--plan", file]);
    expect(cli).toMatchObject({ code: 0, stdout: expect.stringContaining("upgraded 1.0.0 → 2.0.0") });
    expect(cli.stderr).not.toContain("is not the plan");
  });
});
