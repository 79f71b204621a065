/**
 * The node agent's rollout rules with a real etcd and real nodes: the test writes the rollout record and
 * its deadline key (a lease) as the driver would, and every `--fleet` node acts on them: a node in a
 * released wave installs the release (pinned, live, its counter kept) while a node in a pending wave
 * stays; reverting rolls the installed nodes back in memory with their state; succeeded makes the release
 * permanent; the deadline key gone (its lease revoked) makes the nodes revert on their own and move the
 * record to reverting, then reverted; a node restarted in a passed wave (by its launcher, or its launcher
 * killed and started again) converges to the rollout's release; with --barrier, a wave's nodes prepare
 * and hold, then go together, or abort (the wave's abort, or no decision in time, etcd stopped) with nothing changed; the
 * node's health is in its record every refresh (and moves on a crash); a failed install is not retried in
 * a loop. Waits are on etcd's watch events, with timeouts.
 */
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Etcd3, Lease } from "etcd3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { get } from "../../src/net-helpers.ts";
import { buildRelease } from "../../src/relup/build-with-plans.ts";
import { waitForExit } from "../../src/runtime/process-exit.ts";
import { desiredFromStore } from "../../src/fleet/desire-release.ts";
import { NodeRecord, nodeKey } from "../../src/fleet/node-record.ts";
import { RolloutRecord, rolloutDeadlineKey, rolloutKey, type RolloutWave } from "../../src/fleet/rollout-record.ts";
import { useEtcd } from "../helpers/etcd.ts";
import { waitForKey } from "../helpers/etcd-watch.ts";
import { launcherPid, useEtcdClients, useFleetNodes } from "../helpers/fleet-nodes.ts";
import { writeCounterRelease } from "../helpers/counter-release.ts";
import { relup } from "../helpers/relup-cli.ts";
import { waitForText } from "../helpers/wait-for-text.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const etcd = useEtcd();
const client = useEtcdClients();

let built: string;
let v1: string;
let v2: string;
let plan: string;
beforeAll(async () => {
  built = await mkdtemp(path.join(os.tmpdir(), "relup-rollout-agent-"));
  v1 = (await buildRelease({ dir: await writeCounterRelease(built, "1.0.0"), out: built })).tarball;
  v2 = (await buildRelease({ dir: await writeCounterRelease(built, "1.1.0"), out: built })).tarball;
  const generated = await relup(["generate", v1, v2, "-o", path.join(built, "plans")]);
  expect(generated).toMatchObject({ code: 0 });
  plan = path.join(built, "plans", "1.0.0-1.1.0.json");
}, 120_000);
afterAll(() => rm(built, { recursive: true, force: true }));

const startFleetNode = useFleetNodes(tempDir, () => v1, { RELUP_FLEET_REFRESH_MS: "200" });
async function startNode(endpoint: string, id: string) {
  const node = await startFleetNode(endpoint, id);
  expect(node.result).toMatchObject({ code: 0 });
  return node;
}

const leases: Lease[] = [];
afterEach(async () => {
  for (const lease of leases.splice(0)) await lease.revoke().catch(() => lease.release());
});

const parse = (value: string | undefined) => (value === undefined ? undefined : NodeRecord.parse(JSON.parse(value)));
const json = async (port: number, url: string) => JSON.parse(await get(port, url)) as unknown;

/** The rollout of counter 1.1.0 as the driver writes it: published in a file store, the plan inline. */
async function rolloutOf(waves: RolloutWave[], deadlineS = 30): Promise<RolloutRecord> {
  const store = pathToFileURL(await tempDir()).href;
  expect((await relup(["fleet", "publish", v2, "--store", store])).code).toBe(0);
  const source = await desiredFromStore({ release: { name: "counter", version: "1.1.0" }, store, plan });
  const now = new Date().toISOString();
  return RolloutRecord.parse({
    format: 1,
    id: `r-${Date.now().toString(36)}`,
    group: "calc",
    release: source.release,
    url: source.url,
    plan: source.plan,
    from: { version: "1.0.0" },
    options: { canary: 1, soakMs: 0, waves: "1", maxUnavailable: 0, barrier: false, barrierTimeoutMs: 10_000, deadlineS },
    state: "running",
    waves,
    baseline: {},
    started: now,
    updated: now,
  });
}

/** The driver's deadline key, under a lease it keeps alive (revoked after each test). */
async function deadline(c: Etcd3, rollout: RolloutRecord): Promise<Lease> {
  const lease = c.lease(rollout.options.deadlineS);
  leases.push(lease);
  await lease.put(rolloutDeadlineKey("calc")).value(JSON.stringify({ rollout: rollout.id, driver: { host: os.hostname(), pid: process.pid } }));
  return lease;
}

const write = (c: Etcd3, rollout: RolloutRecord) => c.put(rolloutKey("calc")).value(JSON.stringify({ ...rollout, updated: new Date().toISOString() }));

/** Wait for `count` more health reads written into the node's record (refreshes of the agent). */
async function refreshes(c: Etcd3, key: string, count: number): Promise<void> {
  const seen = new Set<string>();
  await waitForKey(c, key, (v) => {
    const at = parse(v)?.health?.at;
    if (at !== undefined) seen.add(at);
    return seen.size > count;
  }, 30_000);
}

/** Wait for node `id`'s record to report `state` for the rollout, running `version`. */
const reported = async (c: Etcd3, id: string, rollout: RolloutRecord, state: string, version: string) =>
  parse(await waitForKey(c, nodeKey("calc", id), (v) => {
    const r = parse(v);
    return r?.rollout?.id === rollout.id && r.rollout.state === state && r.release?.version === version && r.status === "running";
  }, 90_000))!;

describe("the node agent in a rollout", () => {
  it("a node in a released wave installs (counter kept) while one in a pending wave stays; reverting rolls it back in memory, the counter kept", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const [n1, n2] = [await startNode(server.endpoint, "n1"), await startNode(server.endpoint, "n2")];
    for (let i = 0; i < 3; i++) await get(n1.port, "/bump");
    const rollout = await rolloutOf([{ nodes: ["n1"], state: "installing" }, { nodes: ["n2"], state: "pending" }]);
    await deadline(c, rollout);
    await write(c, rollout);

    const installed = await reported(c, "n1", rollout, "installed", "1.1.0");
    expect(installed).toMatchObject({ nodePid: n1.nodePid, rollout: { wave: 0 } });
    expect(await json(n1.port, "/code")).toBe(2);
    expect(await json(n1.port, "/state")).toEqual({ count: 3, v: 2 });
    const other = parse((await c.get(nodeKey("calc", "n2")).string()) ?? undefined);
    expect(other).toMatchObject({ release: { version: "1.0.0" }, status: "running" });
    expect(other?.rollout).toBeUndefined();
    expect(await json(n2.port, "/code")).toBe(1);

    expect(await json(n1.port, "/bump")).toBe(4);
    await write(c, { ...rollout, state: "reverting", reason: "a regression on n1", waves: [{ nodes: ["n1"], state: "failed" }, { nodes: ["n2"], state: "pending" }] });
    const reverted = await reported(c, "n1", rollout, "reverted", "1.0.0");
    expect(reverted.nodePid).toBe(n1.nodePid);
    expect(await json(n1.port, "/code")).toBe(1);
    expect(await json(n1.port, "/state")).toEqual({ count: 4 });
    // With its driver there (the deadline key), the record is the driver's to move on.
    expect(RolloutRecord.parse(JSON.parse((await c.get(rolloutKey("calc")).string())!)).state).toBe("reverting");
    const log = await readFile(path.join(n1.root, "log", "fleet.jsonl"), "utf8");
    for (const event of ["fleet rollout fetching", "fleet rollout applying", "fleet rollout installed", "fleet rollout reverting", "fleet rollout reverted"]) expect(log).toContain(`"event":"${event}"`);
    expect(parse((await c.get(nodeKey("calc", "n2")).string()) ?? undefined)?.rollout).toBeUndefined();
  }, 240_000);

  it("succeeded: every node makes the release permanent; restarted, it boots it", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const nodes = [await startNode(server.endpoint, "p1"), await startNode(server.endpoint, "p2")];
    const rollout = await rolloutOf([{ nodes: ["p1"], state: "passed" }, { nodes: ["p2"], state: "installing" }]);
    await deadline(c, rollout);
    await write(c, rollout);
    for (const id of ["p1", "p2"]) await reported(c, id, rollout, "installed", "1.1.0");
    await write(c, { ...rollout, state: "succeeded", waves: rollout.waves.map((w) => ({ ...w, state: "passed" })) });
    for (const id of ["p1", "p2"]) await reported(c, id, rollout, "permanent", "1.1.0");
    for (const node of nodes) expect((await relup(["releases", "--root", node.root])).stdout).toMatch(/1\.1\.0\s+permanent/);

    process.kill(nodes[0]!.nodePid, "SIGKILL");
    const again = parse(await waitForKey(c, nodeKey("calc", "p1"), (v) => {
      const r = parse(v);
      return r?.status === "running" && r.nodePid !== null && r.nodePid !== nodes[0]!.nodePid;
    }, 60_000))!;
    expect(again.release?.version).toBe("1.1.0");
    expect(await json(nodes[0]!.port, "/code")).toBe(2);
  }, 240_000);

  it("the deadline key gone (the driver's lease revoked): the nodes revert on their own, the record goes reverting, then reverted", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const nodes = [await startNode(server.endpoint, "d1"), await startNode(server.endpoint, "d2")];
    for (const node of nodes) await get(node.port, "/bump");
    const rollout = await rolloutOf([{ nodes: ["d1"], state: "passed" }, { nodes: ["d2"], state: "soaking" }], 5);
    const lease = await deadline(c, rollout);
    await write(c, rollout);
    for (const id of ["d1", "d2"]) await reported(c, id, rollout, "installed", "1.1.0");
    for (const node of nodes) expect(await json(node.port, "/bump")).toBe(2);

    // Every state the record goes through, from a watch opened before the lease goes (the agents may move
    // it on before any later watch would open).
    const states: string[] = [];
    const history = await c.watch().key(rolloutKey("calc")).create();
    let timer: NodeJS.Timeout | undefined;
    const reverted = new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the rollout record went ${states.join(" → ") || "nowhere"}, not reverted, within 90 s`)), 90_000);
      history.on("put", (kv) => {
        const value = kv.value.toString();
        states.push(RolloutRecord.parse(JSON.parse(value)).state);
        if (states.at(-1) === "reverted") resolve(value);
      });
    });
    await lease.revoke();
    const final = await reverted.finally(() => (clearTimeout(timer), history.cancel()));
    expect(states).toContain("reverting");
    expect(RolloutRecord.parse(JSON.parse(final!))).toMatchObject({ state: "reverted", reason: "no driver for 5 s: the rollout's deadline passed" });
    for (const [i, node] of nodes.entries()) {
      const record = parse((await c.get(nodeKey("calc", `d${i + 1}`)).string()) ?? undefined);
      expect(record).toMatchObject({ release: { version: "1.0.0" }, nodePid: node.nodePid, rollout: { id: rollout.id, state: "reverted" } });
      expect(await json(node.port, "/state")).toEqual({ count: 2 });
    }
  }, 240_000);

  it("a node restarted in a passed wave (by its launcher; its launcher killed and started again) boots its permanent release, then converges to the rollout's release", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const node = await startNode(server.endpoint, "s1");
    const rollout = await rolloutOf([{ nodes: ["s1"], state: "passed" }]);
    await deadline(c, rollout);
    await write(c, rollout);
    await reported(c, "s1", rollout, "installed", "1.1.0");

    process.kill(node.nodePid, "SIGKILL");
    const again = parse(await waitForKey(c, nodeKey("calc", "s1"), (v) => {
      const r = parse(v);
      return r?.status === "running" && r.nodePid !== null && r.nodePid !== node.nodePid && r.release?.version === "1.1.0" && r.rollout?.state === "installed";
    }, 90_000))!;
    expect(again.rollout?.id).toBe(rollout.id);
    expect(await json(node.port, "/code")).toBe(2);
    expect((await relup(["releases", "--root", node.root])).stdout).toMatch(/1\.0\.0\s+permanent/);
    const log = await readFile(path.join(node.root, "log", "fleet.jsonl"), "utf8");
    expect(log.match(/"event":"fleet rollout installed"/g)).toHaveLength(2);

    // The launcher and its node killed (the machine lost, a pod deleted), then started again on the root.
    const launcher = await launcherPid(node.root);
    process.kill(launcher, "SIGKILL");
    process.kill(again.nodePid!, "SIGKILL");
    expect(await waitForExit(launcher, 20_000)).toBe(true);
    expect(await waitForExit(again.nodePid!, 20_000)).toBe(true);
    const restarted = await relup(["start", "--root", node.root, "--detach", "--fleet", server.endpoint, "--group", "calc", "--node-id", "s1"], { PORT: String(node.port), RELUP_FLEET_REFRESH_MS: "200" });
    expect(restarted).toMatchObject({ code: 0 });
    const third = Number(restarted.stdout.trim());
    const converged = parse(await waitForKey(c, nodeKey("calc", "s1"), (v) => {
      const r = parse(v);
      return r?.status === "running" && r.nodePid === third && r.release?.version === "1.1.0" && r.rollout?.state === "installed";
    }, 90_000))!;
    expect(converged.launcherPid).not.toBe(launcherPid);
    expect(await json(node.port, "/code")).toBe(2);
  }, 240_000);

  it("health in the record every refresh: it moves when a module crashes; with the rollout's health path, the node's answers are counted", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const node = await startNode(server.endpoint, "h1");
    const key = nodeKey("calc", "h1");
    const first = parse(await waitForKey(c, key, (v) => parse(v)?.health !== undefined, 30_000))!;
    expect(first.health).toMatchObject({ nodePid: node.nodePid, crashes: 0, restarts: 0, failedCalls: 0 });
    expect(first.health?.http).toBeUndefined();

    expect(await get(node.port, "/crash")).toContain("crash asked for");
    const crashed = parse(await waitForKey(c, key, (v) => (parse(v)?.health?.crashes ?? 0) >= 1, 30_000))!;
    expect(crashed.health).toMatchObject({ nodePid: node.nodePid, crashes: 1, restarts: 1, failedCalls: 1 });
    expect(crashed.status).toBe("running");
    expect(await json(node.port, "/state")).toEqual({ count: 0 });

    // A rollout with a health path (the node in a pending wave): GET on the port the node listens on.
    const rollout = await rolloutOf([{ nodes: ["other"], state: "installing" }, { nodes: ["h1"], state: "pending" }]);
    await deadline(c, rollout);
    await write(c, { ...rollout, options: { ...rollout.options, healthPath: "/missing" } });
    const failing = parse(await waitForKey(c, key, (v) => (parse(v)?.health?.http?.failed ?? 0) >= 2, 30_000))!;
    expect(failing.health?.http).toMatchObject({ path: "/missing", ok: 0, last: `port ${node.port}: HTTP 404`, lastFailure: `port ${node.port}: HTTP 404` });
    await write(c, { ...rollout, options: { ...rollout.options, healthPath: "/state" } });
    const ok = parse(await waitForKey(c, key, (v) => (parse(v)?.health?.http?.ok ?? 0) >= 2, 30_000))!;
    expect(ok.health?.http).toMatchObject({ path: "/state", rollout: rollout.id, failed: 0, last: `port ${node.port}: HTTP 200` });
    // Another rollout with the same path: its counts start again, tagged with its id.
    const next = { ...rollout, id: `${rollout.id}-next`, options: { ...rollout.options, healthPath: "/state" } };
    await write(c, next);
    const again = parse(await waitForKey(c, key, (v) => parse(v)?.health?.http?.rollout === next.id, 30_000))!;
    expect(again.health?.http).toMatchObject({ path: "/state", failed: 0 });
    expect(again.health?.http?.lastFailure).toBeUndefined();
  }, 120_000);

  it("a failed install is not tried again at each refresh or for a record that asks the same; a record that asks another release is acted on", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const node = await startNode(server.endpoint, "f1");
    const key = nodeKey("calc", "f1");
    const tampered = await rolloutOf([{ nodes: ["f1"], state: "installing" }]);
    // Other bytes where the published tarball is: the pin no longer matches.
    await copyFile(v1, fileURLToPath(tampered.url));
    await deadline(c, tampered);
    await write(c, tampered);
    const failed = parse(await waitForKey(c, key, (v) => parse(v)?.rollout?.state === "failed", 60_000))!;
    expect(failed).toMatchObject({ status: "failed", release: { version: "1.0.0" }, rollout: { id: tampered.id, wave: 0 } });
    expect(failed.rollout?.failure).toMatch(/sha256 is [0-9a-f]{64}, expected [0-9a-f]{64} \(pinned by rollout r-.* of group calc in etcd\)/);

    // Refreshes, and a new revision of the record that asks the same: no second attempt.
    await refreshes(c, key, 3);
    await write(c, { ...tampered, waves: [{ nodes: ["f1"], state: "installing", started: new Date().toISOString() }] });
    await refreshes(c, key, 3);
    const log = async () => await readFile(path.join(node.root, "log", "fleet.jsonl"), "utf8");
    expect((await log()).match(/"event":"fleet rollout install failed"/g)).toHaveLength(1);
    expect((await log()).match(/"event":"fleet rollout fetching"/g)).toHaveLength(1);

    // Another rollout (the release published again, intact): acted on at once.
    const intact = await rolloutOf([{ nodes: ["f1"], state: "installing" }]);
    await write(c, { ...intact, id: `${intact.id}-b` });
    const installed = parse(await waitForKey(c, key, (v) => parse(v)?.rollout?.state === "installed", 60_000))!;
    expect(installed).toMatchObject({ status: "running", release: { version: "1.1.0" }, nodePid: node.nodePid, rollout: { id: `${intact.id}-b` } });
    expect(installed.rollout?.failure).toBeUndefined();
  }, 120_000);

  it("--barrier: the wave's nodes prepare and hold (still on 1.0.0), then go together and report installed, their counters kept", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const nodes = [await startNode(server.endpoint, "b1"), await startNode(server.endpoint, "b2")];
    for (const node of nodes) await get(node.port, "/bump");
    const base = await rolloutOf([{ nodes: ["b1", "b2"], state: "preparing", barrier: "prepare" }]);
    const rollout: RolloutRecord = { ...base, options: { ...base.options, barrier: true, barrierTimeoutMs: 60_000 } };
    await deadline(c, rollout);
    await write(c, rollout);
    for (const id of ["b1", "b2"]) {
      const held = parse(await waitForKey(c, nodeKey("calc", id), (v) => parse(v)?.rollout?.state === "prepared", 60_000))!;
      expect(held).toMatchObject({ release: { version: "1.0.0" }, rollout: { id: rollout.id, barrier: "point_of_no_return" } });
    }
    // Held before the point of no return: the running code has not changed.
    for (const node of nodes) expect(await json(node.port, "/code")).toBe(1);
    await write(c, { ...rollout, waves: [{ nodes: ["b1", "b2"], state: "released", barrier: "go" }] });
    for (const [i, node] of nodes.entries()) {
      const installed = await reported(c, `b${i + 1}`, rollout, "installed", "1.1.0");
      expect(installed.nodePid).toBe(node.nodePid);
      expect(await json(node.port, "/state")).toEqual({ count: 1, v: 2 });
    }
  }, 120_000);

  it("--barrier: abort, or no decision within the barrier timeout: the node aborts, undone in memory, and says why", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const nodes = [await startNode(server.endpoint, "x1"), await startNode(server.endpoint, "x2")];
    for (const node of nodes) await get(node.port, "/bump");
    const waves: RolloutWave[] = [{ nodes: ["x1"], state: "preparing", barrier: "prepare" }, { nodes: ["x2"], state: "preparing", barrier: "prepare" }];
    const base = await rolloutOf(waves);
    const rollout: RolloutRecord = { ...base, options: { ...base.options, barrier: true, barrierTimeoutMs: 8_000 } };
    await deadline(c, rollout);
    await write(c, rollout);
    await waitForKey(c, nodeKey("calc", "x1"), (v) => parse(v)?.rollout?.state === "prepared", 60_000);
    await write(c, { ...rollout, waves: [{ nodes: ["x1"], state: "aborted", barrier: "abort" }, waves[1]!] });
    const aborted = await reported(c, "x1", rollout, "aborted", "1.0.0");
    expect(aborted.rollout?.failure).toMatch(/^wave 0's barrier says abort: .*held at barrier point_of_no_return .* was aborted \(decision abort\)/s);
    // x2 gets no decision: the node aborts by itself at the barrier's timeout.
    const timedOut = await reported(c, "x2", rollout, "aborted", "1.0.0");
    expect(timedOut.rollout?.failure).toMatch(/no decision within 8000 ms/);
    for (const node of nodes) {
      expect(await json(node.port, "/state")).toEqual({ count: 1 });
      expect((await relup(["releases", "--root", node.root])).stdout).not.toMatch(/1\.1\.0\s+current/);
    }
  }, 120_000);

  it("--barrier with etcd stopped while the node holds: it aborts by itself at the barrier's timeout, nothing changed, and says so once etcd is back", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const node = await startNode(server.endpoint, "e1");
    await get(node.port, "/bump");
    const base = await rolloutOf([{ nodes: ["e1"], state: "preparing", barrier: "prepare" }]);
    const rollout: RolloutRecord = { ...base, options: { ...base.options, barrier: true, barrierTimeoutMs: 3_000 } };
    await deadline(c, rollout);
    await write(c, rollout);
    await waitForKey(c, nodeKey("calc", "e1"), (v) => parse(v)?.rollout?.state === "prepared", 60_000);
    await server.pause();
    await waitForText(path.join(node.root, "log", "fleet.jsonl"), '"event":"fleet rollout aborted"', 30_000);
    expect(await json(node.port, "/code")).toBe(1);
    expect(await json(node.port, "/state")).toEqual({ count: 1 });
    await server.resume();
    const aborted = await reported(c, "e1", rollout, "aborted", "1.0.0");
    // The agent's timer and the node's own fire together: either one's wording may come first.
    expect(aborted.rollout?.failure).toMatch(/no decision (at barrier point_of_no_return )?within 3000 ms/);
    expect(aborted.nodePid).toBe(node.nodePid);
  }, 120_000);

  it("a node that starts while a rollout runs with no deadline key: after the deadline's length it reverts the rollout by itself", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    // The driver died long ago: its deadline key is gone before this node starts.
    const rollout = await rolloutOf([{ nodes: ["g1"], state: "installing" }], 3);
    await write(c, rollout);
    const node = await startNode(server.endpoint, "g1");
    const final = await waitForKey(c, rolloutKey("calc"), (v) => v !== undefined && RolloutRecord.parse(JSON.parse(v)).state === "reverted", 60_000);
    expect(RolloutRecord.parse(JSON.parse(final!))).toMatchObject({ state: "reverted", reason: "no driver for 3 s: the rollout's deadline passed" });
    const record = parse((await c.get(nodeKey("calc", "g1")).string()) ?? undefined);
    expect(record).toMatchObject({ release: { version: "1.0.0" }, nodePid: node.nodePid, rollout: { id: rollout.id, state: "reverted" } });
    expect(await json(node.port, "/code")).toBe(1);
  }, 120_000);

  it("reverting written while the node installs: the install finishes, then the node reverts", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const node = await startNode(server.endpoint, "m1");
    await get(node.port, "/bump");
    const rollout = await rolloutOf([{ nodes: ["m1"], state: "installing" }]);
    await deadline(c, rollout);
    // The watch opens before the record is written: a quick install cannot pass "installing" unseen.
    const installing = waitForKey(c, nodeKey("calc", "m1"), (v) => parse(v)?.rollout?.state === "installing", 60_000);
    await write(c, rollout);
    await installing;
    await write(c, { ...rollout, state: "reverting", reason: "another node failed", waves: [{ nodes: ["m1"], state: "failed" }] });
    const reverted = await reported(c, "m1", rollout, "reverted", "1.0.0");
    expect(reverted.nodePid).toBe(node.nodePid);
    expect(await json(node.port, "/state")).toEqual({ count: 1 });
    const events = (await readFile(path.join(node.root, "log", "fleet.jsonl"), "utf8")).split("\n").filter(Boolean).map((line) => (JSON.parse(line) as { event: string }).event);
    const rolloutEvents = events.filter((e) => e.startsWith("fleet rollout"));
    expect(rolloutEvents).toEqual(["fleet rollout fetching", "fleet rollout applying", "fleet rollout installed", "fleet rollout reverting", "fleet rollout reverted"]);
  }, 120_000);
});
