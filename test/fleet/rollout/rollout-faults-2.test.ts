/**
 * `relup fleet rollout` end to end, more faults (real etcd, real `--fleet` nodes started in parallel, the
 * driver as the CLI): a hand-written appup's `sync_nodes` (every node of a wave holds at it and they pass
 * it together, read from each node's install journal; a node that never gets there: the others abort
 * there, nothing changed, the rollout reverts), `--barrier` with a node whose agent is stopped (the
 * reason names the node that did not prepare), and `--health-path` (a release whose /healthz answers 500: the
 * canary's soak fails on the HTTP check and the rollout reverts; a good release right after, with the same
 * path, succeeds: the first rollout's failures do not count against it).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get } from "../../../src/net-helpers.ts";
import { nodeKey } from "../../../src/fleet/node-record.ts";
import { RolloutRecord, rolloutKey } from "../../../src/fleet/rollout-record.ts";
import { buildRelease } from "../../../src/relup/build-with-plans.ts";
import type { InstallRecord } from "../../../src/runtime/install-journal.ts";
import { type CounterOptions, writeCounterRelease } from "../../helpers/counter-release.ts";
import { useEtcd } from "../../helpers/etcd.ts";
import { waitForKey } from "../../helpers/etcd-watch.ts";
import { launcherPid, useEtcdClients } from "../../helpers/fleet-nodes.ts";
import { relup } from "../../helpers/relup-cli.ts";
import { counterState, journalOf, nodeIds, parseNode, useRolloutNodes } from "../../helpers/rollout-nodes.ts";
import { useTempDirs } from "../../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const etcd = useEtcd();
const client = useEtcdClients();
const REFRESH = { RELUP_FLEET_REFRESH_MS: "200" };
const SYNC_ID = "counter-migrated";

/** 1.1.0's hand-written appup: the counter migrates its state, then every node of the wave meets at SYNC_ID. */
const SYNC_APPUP = {
  format: 1,
  application: "counter",
  version: "1.1.0",
  up: [{ from: "1.0.0", instructions: [{ op: "update", module: "counter", change: { advanced: null } }, { op: "sync_nodes", id: SYNC_ID, timeoutMs: 20_000 }] }],
  down: [{ to: "1.0.0", instructions: [{ op: "update", module: "counter", change: { advanced: null } }] }],
};

type Kind = "sync" | "sick" | "good";
/** The releases rolled out: the good one is the fix after the sick one, so a new version (a node keeps the sick 1.1.0 unpacked). */
const KINDS: Record<Kind, { version: "1.1.0" | "1.1.1"; options: CounterOptions }> = { sync: { version: "1.1.0", options: { appup: SYNC_APPUP } }, sick: { version: "1.1.0", options: { sick: true } }, good: { version: "1.1.1", options: {} } };
let built: string;
let v1: string;
const stores = {} as Record<Kind, { url: string; plan: string; version: string }>;
beforeAll(async () => {
  built = await mkdtemp(path.join(os.tmpdir(), "relup-rollout-faults-2-"));
  v1 = (await buildRelease({ dir: await writeCounterRelease(built, "1.0.0"), out: path.join(built, "out") })).tarball;
  await Promise.all(
    (Object.keys(KINDS) as Kind[]).map(async (kind) => {
      const dir = path.join(built, kind);
      const { version, options } = KINDS[kind];
      const v2 = (await buildRelease({ dir: await writeCounterRelease(dir, version, options), out: path.join(dir, "out") })).tarball;
      const generated = await relup(["generate", v1, v2, "-o", path.join(dir, "plans")]);
      expect(generated.code, generated.stderr).toBe(0);
      stores[kind] = { url: pathToFileURL(path.join(dir, "store")).href, plan: path.join(dir, "plans", `1.0.0-${version}.json`), version };
      const published = await relup(["fleet", "publish", v2, "--store", stores[kind].url]);
      expect(published.code, published.stderr).toBe(0);
    }),
  );
}, 180_000);
afterAll(() => rm(built, { recursive: true, force: true }));

const startNodes = useRolloutNodes(tempDir, () => v1, REFRESH);
const args = (endpoint: string, kind: Kind, extra: string[]) => ["fleet", "rollout", `counter@${stores[kind].version}`, "--plan", stores[kind].plan, "--store", stores[kind].url, "--fleet", endpoint, "--group", "calc", "--yes", "--timeout", "60s", "--loop-slack", "2s", ...extra];
const readRecord = async (endpoint: string) => RolloutRecord.parse(JSON.parse((await client(endpoint).get(rolloutKey("calc")).string())!));

/** The node's latest install of 1.1.0 (from its journal) and its hold at the sync point. */
async function syncHold(node: { root: string }): Promise<{ install: InstallRecord; hold: NonNullable<InstallRecord["barriers"]>[number] }> {
  const install = (await journalOf(node)).findLast((r) => r.kind === "install" && r.to === "1.1.0");
  expect(install, "an install of 1.1.0 in the node's journal").toBeDefined();
  const hold = install!.barriers?.find((b) => b.id === SYNC_ID);
  expect(hold, `the install held at ${SYNC_ID}: ${JSON.stringify(install!.barriers)}`).toBeDefined();
  return { install: install!, hold: hold! };
}

describe("fleet rollout faults with real nodes, more", () => {
  it("a plan's sync_nodes: every node of the wave holds at the point and they pass it together; the rollout succeeds with every node's state", async () => {
    const plan = JSON.parse(await readFile(stores.sync.plan, "utf8")) as { up: { op: string; id?: string }[] };
    expect(plan.up.filter((i) => i.op === "sync_nodes").map((i) => i.id)).toEqual([SYNC_ID]);

    const server = await etcd();
    const nodes = await startNodes(server.endpoint, nodeIds("s", 3));
    const before = await Promise.all(nodes.map(counterState));
    const result = await relup(args(server.endpoint, "sync", ["--canary", "0", "--waves", "100%", "--soak", "1s"]), {}, 120_000);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`^wave 0: every node holds at barrier ${SYNC_ID}: go$`, "m"));
    expect((await readRecord(server.endpoint)).waves.map((w) => [w.state, w.barrier, w.barrierId])).toEqual([["passed", "go", SYNC_ID]]);

    const holds = await Promise.all(nodes.map(syncHold));
    for (const { install, hold } of holds) {
      expect(install.outcome).toBe("installed");
      expect(hold).toMatchObject({ waits: true, decision: "go" });
    }
    // They pass it together: no node's hold ended before the last node's hold started.
    const lastStart = Math.max(...holds.map((h) => h.hold.start));
    for (const { hold } of holds) expect(hold.end!).toBeGreaterThanOrEqual(lastStart);
    for (const [i, node] of nodes.entries()) {
      expect(await counterState(node)).toEqual({ count: before[i]!.count, v: 2 });
      expect(await get(node.port, "/code")).toBe("2");
    }
  }, 120_000);

  it("a plan's sync_nodes with a node of the wave that never gets there (its launcher and node killed): the others abort at the point, nothing changed; the rollout reverts", async () => {
    const server = await etcd();
    // A lease that outlives the rollout's start: t3 is still a member of the group when its wave is released.
    const nodes = await startNodes(server.endpoint, nodeIds("t", 3), ["--fleet-lease-ttl", "60"]);
    const before = await Promise.all(nodes.map(counterState));
    // t3 loses its launcher and its node before the rollout (once it published the health the soak's baseline needs): it never reaches the sync point, whatever the timing.
    const victim = nodes[2]!;
    await waitForKey(client(server.endpoint), nodeKey("calc", "t3"), (v) => parseNode(v)?.health !== undefined, 30_000);
    process.kill(await launcherPid(victim.root), "SIGKILL");
    process.kill(victim.nodePid, "SIGKILL");
    const result = await relup(args(server.endpoint, "sync", ["--canary", "0", "--waves", "100%", "--soak", "1s"]), {}, 120_000);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/reverted: wave 0: /);
    expect(result.stderr).not.toMatch(new RegExp(`every node holds at barrier ${SYNC_ID}`));
    expect((await readRecord(server.endpoint)).state).toBe("reverted");

    for (const [i, node] of nodes.slice(0, 2).entries()) {
      const { install, hold } = await syncHold(node);
      expect(hold.waits).toBe(true);
      expect(["abort", "timeout"]).toContain(hold.decision);
      expect(install).toMatchObject({ outcome: "rolled-back", failure: { kind: "barrier-aborted" } });
      expect(await counterState(node)).toEqual(before[i]);
      expect(await get(node.port, "/code")).toBe("1");
    }
  }, 120_000);

  it("--barrier with a node whose agent is stopped (its launcher SIGSTOPped): the others abort on their own timeout, nothing changed; the reason names the node that did not prepare", async () => {
    const server = await etcd();
    // A lease that outlives the barrier: u3 stays a member of the group while its agent is stopped.
    const nodes = await startNodes(server.endpoint, nodeIds("u", 3), ["--fleet-lease-ttl", "60"]);
    const before = await Promise.all(nodes.map(counterState));
    const launcher = await launcherPid(nodes[2]!.root);
    // u3's launcher (its agent) stops before the rollout (once it published the health the soak's baseline needs): u3 never prepares, whatever the timing.
    await waitForKey(client(server.endpoint), nodeKey("calc", "u3"), (v) => parseNode(v)?.health !== undefined, 30_000);
    process.kill(launcher, "SIGSTOP");
    try {
      const result = await relup(args(server.endpoint, "good", ["--canary", "0", "--waves", "100%", "--soak", "1s", "--barrier", "--barrier-timeout", "3s"]), {}, 120_000);
      expect(result.code, result.stderr).toBe(1);
      // u1 and u2 prepare at their own pace on a loaded machine: the one that gives up first may name the other too.
      expect(result.stderr).toMatch(/reverted: wave 0: the barrier aborted: (u[12], )?u3 did not prepare/);
      expect((await readRecord(server.endpoint)).waves[0]).toMatchObject({ state: "aborted", barrier: "abort" });
    } finally {
      process.kill(launcher, "SIGCONT");
    }
    for (const [i, node] of nodes.entries()) {
      expect(await counterState(node)).toEqual(before[i]);
      expect(await get(node.port, "/code")).toBe("1");
    }
  }, 120_000);

  it("--health-path: a release whose path answers 500 fails the canary's soak on the HTTP check and reverts; a good release right after, same path, succeeds", async () => {
    const server = await etcd();
    const nodes = await startNodes(server.endpoint, nodeIds("h", 3));
    const before = await Promise.all(nodes.map(counterState));
    for (const node of nodes) expect(await get(node.port, "/healthz")).toBe(`"ok"`);

    const sick = await relup(args(server.endpoint, "sick", ["--canary", "1", "--waves", "2", "--soak", "3s", "--health-path", "/healthz"]), {}, 120_000);
    expect(sick.code, sick.stderr).toBe(1);
    expect(sick.stderr).toMatch(/reverted: wave 0 \(canary\): regression: h1: \/healthz failed \d+ times? \(last failure: port \d+: .*500/);
    for (const [i, node] of nodes.entries()) {
      expect(await counterState(node)).toEqual(before[i]);
      expect(await get(node.port, "/code")).toBe("1");
      expect(await get(node.port, "/healthz")).toBe(`"ok"`);
    }

    const good = await relup(args(server.endpoint, "good", ["--canary", "1", "--waves", "2", "--soak", "2s", "--health-path", "/healthz"]), {}, 120_000);
    expect(good.code, good.stderr).toBe(0);
    const record = await readRecord(server.endpoint);
    expect(record).toMatchObject({ state: "succeeded", options: { healthPath: "/healthz" } });
    for (const [i, node] of nodes.entries()) {
      expect(await counterState(node)).toEqual({ count: before[i]!.count, v: 2 });
      expect(await get(node.port, "/code")).toBe("2");
    }
  }, 120_000);
});
