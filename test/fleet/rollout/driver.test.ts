/**
 * `relup fleet rollout`, the driver, against a real etcd. The node records are written by the test as
 * the nodes' agents would report (test/helpers/node-reports.ts): they are the driver's input. Covered:
 * the canary and the waves in order, success writing the desired record (next generation) and every
 * node made permanent, a regression in the soak reverted, a node gone over --max-unavailable, the lock
 * (a second driver refused, naming the holder), and --resume after the driver's process was SIGKILLed.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DesiredRecord, desiredKey } from "../../../src/fleet/desired-record.ts";
import { RolloutRecord, rolloutDeadlineKey, rolloutKey } from "../../../src/fleet/rollout-record.ts";
import { takeRolloutLock } from "../../../src/fleet/rollout/rollout-lock.ts";
import { buildRelease } from "../../../src/relup/build-with-plans.ts";
import { useEtcd } from "../../helpers/etcd.ts";
import { waitForKey } from "../../helpers/etcd-watch.ts";
import { useEtcdClients } from "../../helpers/fleet-nodes.ts";
import { ReportingNodes } from "../../helpers/node-reports.ts";
import { BIN, relup } from "../../helpers/relup-cli.ts";
import { bufferIo } from "../../../src/cli/io.ts";
import { runCli } from "../../../src/cli/run-cli.ts";
import { useTempDirs } from "../../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const etcd = useEtcd();
const client = useEtcdClients();

let built: string;
let plan: string;
let store: string;
beforeAll(async () => {
  built = await mkdtemp(path.join(os.tmpdir(), "relup-rollout-"));
  const v1 = (await buildRelease({ dir: "fixtures/calculator/1.0.0", out: built })).tarball;
  const v2 = (await buildRelease({ dir: "fixtures/calculator/1.1.0", out: built })).tarball;
  expect((await relup(["generate", v1, v2, "-o", path.join(built, "plans")])).code).toBe(0);
  plan = path.join(built, "plans", "1.0.0-1.1.0.json");
  store = pathToFileURL(path.join(built, "store")).href;
  expect((await relup(["fleet", "publish", v2, "--store", store])).code).toBe(0);
}, 120_000);
afterAll(() => rm(built, { recursive: true, force: true }));

const reporting: ReportingNodes[] = [];
afterEach(async () => {
  await Promise.all(reporting.splice(0).map((r) => r.close()));
});

async function nodes(endpoint: string, ids: string[], options: { quiet?: string[] } = {}): Promise<ReportingNodes> {
  const r = await new ReportingNodes(client(endpoint), "calc", ids, "1.0.0", options.quiet ?? []).start();
  reporting.push(r);
  return r;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i + 1}`);
const rolloutArgs = (endpoint: string, extra: string[] = []) => ["fleet", "rollout", "calculator@1.1.0", "--plan", plan, "--store", store, "--fleet", endpoint, "--group", "calc", "--yes", "--timeout", "30s", ...(extra.includes("--deadline") ? [] : ["--deadline", "30s"]), ...extra];
const rollout = (endpoint: string, extra: string[] = []) => relup(rolloutArgs(endpoint, extra), {}, 90_000);
const readRecord = async (endpoint: string) => RolloutRecord.parse(JSON.parse((await client(endpoint).get(rolloutKey("calc")).string())!));

describe("relup fleet rollout (the driver, real etcd, reports written by the test)", () => {
  it("canary first, then waves in id order, each after the last passed; success writes the desired record (next generation) and every node makes it permanent", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    // An earlier desire: the rollout's desired record is the next generation.
    await c.put(desiredKey("calc")).value(JSON.stringify({ format: 1, generation: 4, release: { name: "calculator", version: "1.0.0", identity: "a".repeat(64), sha256: "b".repeat(64) }, url: "file:///x/calculator-1.0.0.tar.gz", plan: { url: "file:///x/plan.json" }, source: "test", since: new Date().toISOString() }));
    const group = await nodes(server.endpoint, ids(5));

    const result = await rollout(server.endpoint, ["--canary", "1", "--waves", "2", "--soak", "300ms"]);
    expect(result.code, result.stderr).toBe(0);
    expect(group.installs).toEqual(["n1", "n2", "n3", "n4", "n5"]);
    const record = await readRecord(server.endpoint);
    expect(record).toMatchObject({ state: "succeeded", from: { version: "1.0.0" }, release: { version: "1.1.0" } });
    expect(record.waves.map((w) => [w.nodes, w.state])).toEqual([[["n1"], "passed"], [["n2", "n3"], "passed"], [["n4", "n5"], "passed"]]);
    // A wave starts only once every wave before it passed its soak.
    for (const seen of group.seen) {
      const started = seen.waves.findIndex((w) => w.state !== "pending" && w.state !== "passed");
      if (started > 0) expect(seen.waves.slice(0, started).every((w) => w.state === "passed")).toBe(true);
      const firstPending = seen.waves.findIndex((w) => w.state === "pending");
      if (firstPending >= 0) expect(seen.waves.slice(firstPending).every((w) => w.state === "pending")).toBe(true);
    }
    const desired = DesiredRecord.parse(JSON.parse((await c.get(desiredKey("calc")).string())!));
    expect(desired).toMatchObject({ generation: 5, release: { name: "calculator", version: "1.1.0" }, source: `rollout ${record.id}` });
    expect([...group.records.values()].map((n) => n.rollout?.state)).toEqual(Array(5).fill("permanent"));
    // The events as they came, a table at each wave's end, the final table on stdout; the deadline key is gone.
    expect(result.stderr).toMatch(/^wave 0 \(canary\): n1: installing calculator 1\.1\.0$/m);
    expect(result.stderr).toMatch(/^wave 2: passed its soak$/m);
    expect(result.stderr).toMatch(/^NODE +WAVE +RELEASE +STATUS +ROLLOUT$/m);
    expect(result.stdout).toMatch(new RegExp(`^rollout ${record.id} of group calc: calculator 1\\.0\\.0 → 1\\.1\\.0: succeeded$`, "m"));
    expect(result.stdout).toMatch(/^n5 +2 +calculator 1\.1\.0 +running +permanent$/m);
    expect(await c.get(rolloutDeadlineKey("calc")).string()).toBeNull();

    // `fleet status` shows it, as a table and in JSON.
    const status = await relup(["fleet", "status", "--fleet", server.endpoint, "--group", "calc"]);
    expect(status.stdout).toMatch(/^rollout .* succeeded$/m);
    expect(status.stdout).toMatch(/^wave 0 \(canary\) +passed +n1$/m);
    const json = JSON.parse((await relup(["fleet", "status", "--fleet", server.endpoint, "--group", "calc", "--json"])).stdout);
    expect(json.rollout).toMatchObject({ id: record.id, state: "succeeded" });
    expect(json.nodes).toHaveLength(5);
  }, 120_000);

  it("a regression in the canary's soak (a crash): reverting, every upgraded node reports reverted, reverted; exit 1 with the reason and the table", async () => {
    const server = await etcd();
    const group = await nodes(server.endpoint, ids(3));
    const c = client(server.endpoint);
    // Once the canary soaks, its agent publishes reads with one crash more (the first read after the install is not
    // compared: its interval covers the install's own pause).
    void waitForKey(c, rolloutKey("calc"), (v) => v !== undefined && RolloutRecord.parse(JSON.parse(v)).waves[0]!.state === "soaking", 60_000).then(async () => {
      await group.health("n1", { crashes: 1 });
      await group.health("n1", { crashes: 1 });
    });

    const result = await rollout(server.endpoint, ["--soak", "20s"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/rollout [a-z0-9-]+ of calculator 1\.1\.0 in group calc: reverted: wave 0 \(canary\): regression: n1: process crashes rose by 1 \(0 → 1\), 0 allowed over the soak/);
    expect(result.stdout).toMatch(/^n1 +0 +calculator 1\.0\.0 +running +reverted$/m);
    expect(result.stdout).toMatch(/^n2 +1 +calculator 1\.0\.0 +running +-$/m);
    expect(group.installs).toEqual(["n1"]);
    const record = await readRecord(server.endpoint);
    expect(record).toMatchObject({ state: "reverted", waves: [{ state: "failed" }, { state: "pending" }, { state: "pending" }] });
    expect(await c.get(desiredKey("calc")).string()).toBeNull();
  }, 120_000);

  it("the event loop's p99: the first read after the install (it covers the install's pause) is not compared; two slow reads after it are a regression", async () => {
    const server = await etcd();
    // n1 publishes only the reads the test writes: which read comes first after its install is the test's to choose.
    const group = await nodes(server.endpoint, ids(2), { quiet: ["n1"] });
    const soaking = () => waitForKey(client(server.endpoint), rolloutKey("calc"), (v) => v !== undefined && RolloutRecord.parse(JSON.parse(v)).waves[0]!.state === "soaking", 60_000);
    void soaking().then(async () => {
      await group.health("n1", { loopP99Ms: 400 });
      await group.health("n1", { loopP99Ms: 400 });
    });
    const passed = await rollout(server.endpoint, ["--soak", "1s", "--waves", "1"]);
    expect(passed.code, passed.stderr).toBe(0);

    const server2 = await etcd();
    const group2 = await nodes(server2.endpoint, ids(2), { quiet: ["n1"] });
    void waitForKey(client(server2.endpoint), rolloutKey("calc"), (v) => v !== undefined && RolloutRecord.parse(JSON.parse(v)).waves[0]!.state === "soaking", 60_000).then(async () => {
      for (let i = 0; i < 3; i++) await group2.health("n1", { loopP99Ms: 400 });
    });
    const reverted = await rollout(server2.endpoint, ["--soak", "20s", "--waves", "1"]);
    expect(reverted.code).toBe(1);
    expect(reverted.stderr).toMatch(/reverted: wave 0 \(canary\): regression: n1: event-loop delay p99 400 ms in two reads in a row, above 55 ms \(baseline 5 ms\)/);
  }, 120_000);

  it("a soak shorter than the agents' refresh still judges every node of the wave: it waits for a health read since the install, and a regression in it reverts", async () => {
    const server = await etcd();
    // n1 publishes no read of its own: the soak's time passes with nothing to judge it by.
    const group = await nodes(server.endpoint, ids(2), { quiet: ["n1"] });
    const child = spawn(process.execPath, [BIN, ...rolloutArgs(server.endpoint, ["--soak", "200ms", "--waves", "1"])], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let said = "";
    const waiting = new Promise<void>((resolve) => {
      const hear = (chunk: Buffer) => {
        said += chunk.toString();
        if (said.includes("wave 0 (canary): soak over; waiting for a health read from n1 since its install")) resolve();
      };
      child.stdout!.on("data", hear);
      child.stderr!.on("data", hear);
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    await Promise.race([waiting, exited.then(() => Promise.reject(new Error(`the driver exited before it waited for n1:\n${said}`)))]);
    // The first read after the install covers the install; the next one shows a crash.
    await group.health("n1");
    await group.health("n1", { crashes: 1 });
    expect(await exited).toBe(1);
    expect(said).toMatch(/reverted: wave 0 \(canary\): regression: n1: process crashes rose by 1/);
  }, 60_000);

  it("an upgraded node whose node process dies in the soak (restarting) is a regression, whatever --max-unavailable allows", async () => {
    const server = await etcd();
    const group = await nodes(server.endpoint, ids(3));
    void waitForKey(client(server.endpoint), rolloutKey("calc"), (v) => v !== undefined && RolloutRecord.parse(JSON.parse(v)).waves[0]!.state === "soaking", 60_000).then(() => group.status("n1", "restarting"));
    const result = await rollout(server.endpoint, ["--soak", "20s", "--max-unavailable", "2"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/reverted: wave 0 \(canary\): regression: n1's node died on 1\.1\.0 \(its launcher restarts it\)/);
  }, 60_000);

  it("etcd restarted in the middle of a soak: the driver tries its writes again and finishes", async () => {
    const server = await etcd();
    const group = await nodes(server.endpoint, ids(2));
    void waitForKey(client(server.endpoint), rolloutKey("calc"), (v) => v !== undefined && RolloutRecord.parse(JSON.parse(v)).waves[0]!.state === "soaking", 60_000).then(async () => {
      await server.pause();
      await server.resume();
    });
    const result = await rollout(server.endpoint, ["--soak", "2s", "--waves", "1"]);
    expect(result.code, result.stderr).toBe(0);
    expect((await readRecord(server.endpoint)).state).toBe("succeeded");
    expect([...group.records.values()].map((n) => n.rollout?.state)).toEqual(["permanent", "permanent"]);
  }, 120_000);

  it("a failed install on a node reverts the wave's other nodes", async () => {
    const server = await etcd();
    const group = await nodes(server.endpoint, ids(3));
    group.behaviour = { install: (id) => (id === "n3" ? "failed" : "installed") };
    const result = await rollout(server.endpoint, ["--canary", "0", "--waves", "100%", "--soak", "1s"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/reverted: wave 0: n3 failed to install 1\.1\.0: n3: the plan's step 3 failed/);
    expect([...group.records.values()].map((n) => [n.id, n.release?.version, n.rollout?.state])).toEqual([["n1", "1.0.0", "reverted"], ["n2", "1.0.0", "reverted"], ["n3", "1.0.0", "failed"]]);
  }, 120_000);

  it("a node gone (its record expired) over --max-unavailable reverts; within it, the rollout goes on without it", async () => {
    const server = await etcd();
    const group = await nodes(server.endpoint, ids(3));
    const c = client(server.endpoint);
    void waitForKey(c, rolloutKey("calc"), (v) => v !== undefined && RolloutRecord.parse(JSON.parse(v)).waves[0]!.state === "soaking", 60_000).then(() => group.gone("n3"));
    const refused = await rollout(server.endpoint, ["--soak", "20s", "--max-unavailable", "0"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/reverted: wave 0 \(canary\): 1 node unavailable \(n3\), more than --max-unavailable 0/);
    expect(refused.stdout).toMatch(/^n3 +2 +- +gone +-$/m);

    const server2 = await etcd();
    const group2 = await nodes(server2.endpoint, ids(3));
    void waitForKey(client(server2.endpoint), rolloutKey("calc"), (v) => v !== undefined && RolloutRecord.parse(JSON.parse(v)).waves[0]!.state === "soaking", 60_000).then(() => group2.gone("n3"));
    const allowed = await rollout(server2.endpoint, ["--soak", "500ms", "--waves", "2", "--max-unavailable", "1"]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(group2.installs).toEqual(["n1", "n2"]);
  }, 120_000);

  it("one driver per group: a second rollout is refused at once naming the lock's holder; a running record is refused, naming --resume", async () => {
    const server = await etcd();
    await nodes(server.endpoint, ids(2));
    const lock = await takeRolloutLock(client(server.endpoint), "calc", { ttlS: 5 });
    const refused = await rollout(server.endpoint);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`another \`relup fleet rollout\` drives group calc \\(pid ${process.pid} on ${os.hostname()}, holding relup/groups/calc/rollout-lock\\)\\. Fix: .*--resume`));
    expect(await client(server.endpoint).get(rolloutKey("calc")).string()).toBeNull();
    await lock.release();

    // A record left running (its driver gone): a new rollout does not replace it.
    const record: RolloutRecord = { format: 1, id: "left-behind-1", group: "calc", release: { name: "calculator", version: "1.1.0", identity: "a".repeat(64), sha256: "b".repeat(64) }, url: "file:///x", plan: { url: "file:///p" }, from: { version: "1.0.0" }, options: { canary: 1, soakMs: 1000, waves: "25%", maxUnavailable: 0, barrier: false, barrierTimeoutMs: 60_000, deadlineS: 600 }, state: "running", waves: [{ nodes: ["n1"], state: "soaking" }], baseline: {}, started: "2026-01-01T00:00:00Z", updated: "2026-01-01T00:00:00Z" };
    await client(server.endpoint).put(rolloutKey("calc")).value(JSON.stringify(record));
    const second = await rollout(server.endpoint);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/group calc has a rollout running: left-behind-1, calculator 1\.1\.0, started 2026-01-01T00:00:00Z\. Fix: `relup fleet rollout --resume --fleet … --group calc`/);
  }, 60_000);

  it("--resume after the driver's process was killed (SIGKILL) drives the record on from its wave and succeeds", async () => {
    const server = await etcd();
    const group = await nodes(server.endpoint, ids(3));
    const c = client(server.endpoint);
    const child = spawn(process.execPath, [BIN, ...rolloutArgs(server.endpoint, ["--soak", "6s", "--waves", "1", "--deadline", "8s"])], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let said = "";
    child.stderr!.on("data", (chunk: Buffer) => (said += chunk.toString()));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // The soak is long enough that the kill lands inside it on a loaded machine; --resume soaks the rest.
    try {
      await waitForKey(c, rolloutKey("calc"), (v) => v !== undefined && RolloutRecord.parse(JSON.parse(v)).waves[1]!.state === "soaking", 60_000).catch((error: Error) => {
        throw new Error(`${error.message}; the driver said:\n${said}`);
      });
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
    const before = await readRecord(server.endpoint);
    expect(before).toMatchObject({ state: "running", driver: { pid: child.pid } });

    const resumed = await relup(["fleet", "rollout", "--resume", "--fleet", server.endpoint, "--group", "calc", "--timeout", "30s", "--json"], {}, 60_000);
    expect(resumed.code, resumed.stderr).toBe(0);
    const printed = JSON.parse(resumed.stdout) as { rollout: RolloutRecord; nodes: { id: string }[]; notPermanent: string[] };
    expect(printed).toMatchObject({ rollout: { id: before.id, state: "succeeded" }, notPermanent: [] });
    expect(printed.nodes.map((n) => n.id)).toEqual(["n1", "n2", "n3"]);
    expect(resumed.stderr).toMatch(new RegExp(`^resuming rollout ${before.id} \\(running, at wave 1: soaking\\)$`, "m"));
    const after = await readRecord(server.endpoint);
    expect(after).toMatchObject({ id: before.id, state: "succeeded", driver: { pid: process.pid } });
    expect(group.installs).toEqual(["n1", "n2", "n3"]);
    expect(await c.get(desiredKey("calc")).string()).toContain('"version":"1.1.0"');
  }, 120_000);

  it("--barrier: every node of a wave prepares, then the barrier says go and they install; one node that never prepares aborts the wave at --barrier-timeout and the rollout reverts", async () => {
    const server = await etcd();
    const group = await nodes(server.endpoint, ids(3));
    const ok = await rollout(server.endpoint, ["--barrier", "--canary", "1", "--waves", "2", "--soak", "200ms"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/^wave 1: every node prepared at point-of-no-return: barrier go$/m);
    const record = await readRecord(server.endpoint);
    expect(record.waves.map((w) => [w.state, w.barrier])).toEqual([["passed", "go"], ["passed", "go"]]);
    expect([...group.records.values()].map((n) => n.rollout?.state)).toEqual(["permanent", "permanent", "permanent"]);

    const server2 = await etcd();
    const group2 = await nodes(server2.endpoint, ids(3));
    // n3 never prepares (its agent lost etcd, say): the wave's barrier times out.
    group2.behaviour = { install: () => "installed", prepare: (id) => (id === "n3" ? "silent" : "prepared") };
    const aborted = await rollout(server2.endpoint, ["--barrier", "--barrier-timeout", "500ms", "--canary", "0", "--waves", "100%", "--soak", "200ms"]);
    expect(aborted.code).toBe(1);
    expect(aborted.stderr).toMatch(/reverted: wave 0: the barrier aborted: n3 did not prepare within --barrier-timeout 500 ms/);
    const abortedRecord = await readRecord(server2.endpoint);
    expect(abortedRecord.waves[0]).toMatchObject({ state: "aborted", barrier: "abort" });
    expect([...group2.records.values()].map((n) => [n.id, n.release?.version, n.rollout?.state])).toEqual([["n1", "1.0.0", "aborted"], ["n2", "1.0.0", "aborted"], ["n3", "1.0.0", undefined]]);
  }, 120_000);

  it("a plan's sync_nodes points: every node of the wave holds at each, and the driver releases each point (barrierId) once all hold there", async () => {
    const server = await etcd();
    const group = await nodes(server.endpoint, ids(3));
    group.behaviour = { install: () => "installed", points: ["sync-a", "sync-b"] };
    const result = await rollout(server.endpoint, ["--canary", "1", "--waves", "2", "--soak", "200ms", "--barrier"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^wave 1: every node prepared at point-of-no-return: barrier go$/m);
    expect(result.stderr).toMatch(/^wave 1: every node holds at barrier sync-a: go\nwave 1: every node holds at barrier sync-b: go$/m);
    const record = await readRecord(server.endpoint);
    expect(record.waves.map((w) => [w.state, w.barrier, w.barrierId])).toEqual([["passed", "go", "sync-b"], ["passed", "go", "sync-b"]]);
  }, 60_000);

  it("without --yes on a terminal: shows the waves and asks; no is exit 1 with nothing written", async () => {
    const server = await etcd();
    await nodes(server.endpoint, ids(3));
    const questions: string[] = [];
    const io = Object.assign(bufferIo(), { ask: async (q: string) => (questions.push(q), "n") });
    const args = rolloutArgs(server.endpoint).filter((a) => a !== "--yes");
    const code = await runCli(args, io, { ...process.env, NO_COLOR: "1" });
    expect(code).toBe(1);
    expect(questions[0]).toMatch(/^Roll calculator 1\.0\.0 → 1\.1\.0 \(sha256 [0-9a-f]{16}…\) across group calc in 3 waves, soaking 5m each:\n  wave 0 \(canary\): n1\n  wave 1: n2\n  wave 2: n3\nStart\? \[y\/N\] $/);
    expect(io.stderr).toContain("not started: not confirmed. Nothing was written.");
    expect(await client(server.endpoint).get(rolloutKey("calc")).string()).toBeNull();
    expect(await client(server.endpoint).get(rolloutDeadlineKey("calc")).string()).toBeNull();
  }, 60_000);

  it("a node whose agent failed an earlier desire (status failed, serving) is not unavailable: the rollout goes on with it", async () => {
    const server = await etcd();
    const group = await nodes(server.endpoint, ids(2));
    await group.status("n2", "failed");
    const result = await rollout(server.endpoint, ["--soak", "300ms", "--max-unavailable", "0"]);
    expect(result.code, result.stderr).toBe(0);
    expect(group.installs).toEqual(["n1", "n2"]);
  }, 60_000);

  it("refused before anything is written: an inline plan of other versions than the group runs, and an etcd that does not answer", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    // The group's desired release is 0.9.0: a plan from 1.0.0 cannot take it to 1.1.0.
    await nodes(server.endpoint, ids(2));
    await c.put(desiredKey("calc")).value(JSON.stringify({ format: 1, generation: 2, release: { name: "calculator", version: "0.9.0", identity: "a".repeat(64), sha256: "b".repeat(64) }, url: "file:///x/calculator-0.9.0.tar.gz", plan: { url: "file:///x/plan.json" }, source: "test", since: new Date().toISOString() }));
    const stale = await rollout(server.endpoint);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain("--plan: is the plan of calculator 1.0.0 → 1.1.0, but group calc runs calculator 0.9.0 (its desired release (relup/groups/calc/desired)), so it cannot take the group to 1.1.0. Nothing was written. Fix: give the plan from 0.9.0 to 1.1.0");
    expect(await c.get(rolloutKey("calc")).string()).toBeNull();

    await server.pause();
    const down = await rollout(server.endpoint);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`etcd at ${server.endpoint}: no answer`);
  }, 120_000);

  it("bad usage: a duration that is not one, and no --yes without a terminal, exit 2 with the fix and write nothing", async () => {
    const bad = await relup(["fleet", "rollout", "calculator@1.1.0", "--plan", "p.json", "--store", "file:///s", "--fleet", "http://127.0.0.1:1", "--group", "calc", "--soak", "5 minutes"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--soak "5 minutes" is not a duration. Fix: a whole number and a unit: `--soak 5m`, `30s`, `1500ms` or `1h`.');
    const noTty = await relup(["fleet", "rollout", "calculator@1.1.0", "--plan", "p.json", "--store", "file:///s", "--fleet", "http://127.0.0.1:1", "--group", "calc"]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain("this upgrades every node of group calc, and nobody is there to confirm (stdin is not a terminal). Fix: pass --yes to start it without asking.");
    const resumeWithRelease = await relup(["fleet", "rollout", "calculator@1.1.0", "--resume", "--fleet", "http://127.0.0.1:1", "--group", "calc"]);
    expect(resumeWithRelease.code).toBe(2);
    expect(resumeWithRelease.stderr).toContain("--resume drives the group's rollout as its record says; REL cannot be given with it");
    const waves = await relup(["fleet", "rollout", "--resume", "--fleet", "http://127.0.0.1:1", "--group", "calc", "--waves", "0"]);
    expect(waves.code).toBe(2);
    expect(waves.stderr).toContain('--waves "0" is not a wave size');
    const notNumber = await relup(["fleet", "rollout", "--resume", "--fleet", "http://127.0.0.1:1", "--group", "calc", "--max-unavailable", "abc"]);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain("--max-unavailable must be a whole number of nodes, 0 or more, not a number. Fix: `--max-unavailable 1`.");
  });
});
