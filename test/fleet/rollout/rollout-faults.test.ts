/**
 * `relup fleet rollout` end to end: a real etcd, five or more real `--fleet` nodes (each its own root,
 * port and launcher, started in parallel), the real node agents, the driver as the CLI. Faults: a clean
 * canary rollout under HTTP load (no failed request, every node's in-memory state kept), a release with a
 * module that crashes (the canary's soak sees it: every node back on 1.0.0 with its state), a node's
 * launcher SIGKILLed mid-rollout (within --max-unavailable: the rollout goes on; started again, the node
 * converges to the new desired release), the driver SIGKILLed (--resume finishes it; nobody resuming: the
 * deadline reverts it), a node joining after the rollout, --barrier (each wave holds, then goes together),
 * and etcd stopped while a wave holds at its barrier (every node aborts by itself, nothing changed).
 * Waits are on etcd's watch events and the nodes' log files.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get } from "../../../src/net-helpers.ts";
import { nodeKey } from "../../../src/fleet/node-record.ts";
import { RolloutRecord, rolloutKey } from "../../../src/fleet/rollout-record.ts";
import { buildRelease } from "../../../src/relup/build-with-plans.ts";
import { waitForExit } from "../../../src/runtime/process-exit.ts";
import { writeCounterRelease } from "../../helpers/counter-release.ts";
import { useEtcd } from "../../helpers/etcd.ts";
import { waitForKey } from "../../helpers/etcd-watch.ts";
import { launcherPid, useEtcdClients } from "../../helpers/fleet-nodes.ts";
import { useHttpLoad } from "../../helpers/http-load.ts";
import { relup } from "../../helpers/relup-cli.ts";
import { counterState, driverProcess, nodeIds, parseNode, type RolloutNode, rolloutIs, useRolloutNodes } from "../../helpers/rollout-nodes.ts";
import { useTempDirs } from "../../helpers/temp-dir.ts";
import { waitForText } from "../../helpers/wait-for-text.ts";

const tempDir = useTempDirs();
const etcd = useEtcd();
const client = useEtcdClients();
const httpLoad = useHttpLoad();
const REFRESH = { RELUP_FLEET_REFRESH_MS: "200" };

/**
 * 1.1.0 with a new supervised module, `flaky`, that crashes a second after each start (restarted by its
 * supervisor, slower than the supervisor's intensity gives up): a regression only a soak sees.
 */
const FLAKY = `
import { cast } from "relup/runtime";
export const behaviour = "server";
export function init() { setTimeout(() => cast("flaky", "boom"), 1000); return {}; }
export function handleCast(msg: string, state: unknown) { if (msg === "boom") throw new Error("flaky crashed"); return state; }
export function handleCall(_r: unknown, _f: unknown, s: unknown) { return { reply: null, state: s }; }
`;

let built: string;
let v1: string;
const stores: Record<"good" | "bad", { url: string; plan: string }> = { good: { url: "", plan: "" }, bad: { url: "", plan: "" } };
beforeAll(async () => {
  built = await mkdtemp(path.join(os.tmpdir(), "relup-rollout-faults-"));
  v1 = (await buildRelease({ dir: await writeCounterRelease(built, "1.0.0"), out: path.join(built, "out") })).tarball;
  for (const kind of ["good", "bad"] as const) {
    const dir = path.join(built, kind);
    const project = await writeCounterRelease(dir, "1.1.0");
    if (kind === "bad") {
      await writeFile(path.join(project, "apps/counter/flaky.ts"), FLAKY);
      const sup = path.join(project, "apps/counter/sup.ts");
      await writeFile(sup, (await readFile(sup, "utf8")).replace(`{ id: "counter", module: "counter", name: "counter", args: {} },`, `{ id: "counter", module: "counter", name: "counter", args: {} },\n      { id: "flaky", module: "flaky", name: "flaky", args: {} },`));
    }
    const v2 = (await buildRelease({ dir: project, out: path.join(dir, "out") })).tarball;
    expect((await relup(["generate", v1, v2, "-o", path.join(dir, "plans")])).code).toBe(0);
    stores[kind] = { url: pathToFileURL(path.join(dir, "store")).href, plan: path.join(dir, "plans", "1.0.0-1.1.0.json") };
    expect((await relup(["fleet", "publish", v2, "--store", stores[kind].url])).code).toBe(0);
  }
}, 180_000);
afterAll(() => rm(built, { recursive: true, force: true }));

const startNodes = useRolloutNodes(tempDir, () => v1, REFRESH);
type Node = RolloutNode;
const ids = nodeIds;
/**
 * The driver's arguments. Five nodes installing at once on a small shared machine stall each other's event
 * loops for tens of ms; the tests that are not about a slow loop give the soak a loose --loop-slack.
 */
const args = (endpoint: string, kind: "good" | "bad", extra: string[]) => ["fleet", "rollout", "counter@1.1.0", "--plan", stores[kind].plan, "--store", stores[kind].url, "--fleet", endpoint, "--group", "calc", "--yes", "--timeout", "60s", "--loop-slack", "2s", ...extra];
const state = counterState;

describe("fleet rollout with real nodes", () => {
  it("a clean canary rollout under HTTP load: no request fails, every node keeps its state and makes 1.1.0 permanent; a node joining later boots it", async () => {
    const server = await etcd();
    const nodes = await startNodes(server.endpoint, ids("c"));
    const before = await Promise.all(nodes.map(state));
    const loads = nodes.map((node) => httpLoad({ port: node.port, path: "/state", concurrency: 1 }));

    const result = await relup(args(server.endpoint, "good", ["--canary", "1", "--waves", "2", "--soak", "1s"]), {}, 180_000);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^wave 0 \(canary\): c1: installing counter 1\.1\.0$/m);
    for (const load of loads) {
      const counts = await load.stop();
      expect(counts.failures).toEqual([]);
      expect(counts.answered).toBeGreaterThan(0);
    }
    const c = client(server.endpoint);
    for (const [i, node] of nodes.entries()) {
      expect(await state(node)).toEqual({ count: before[i]!.count, v: 2 });
      const id = `c${i + 1}`;
      expect(await get(node.port, "/code")).toBe("2");
      const record = parseNode((await c.get(nodeKey("calc", id)).string()) ?? undefined);
      expect(record).toMatchObject({ nodePid: node.nodePid, release: { version: "1.1.0" }, rollout: { state: "permanent" } });
    }
    expect((await relup(["releases", "--root", nodes[0]!.root])).stdout).toMatch(/1\.1\.0\s+permanent/);

    const [late] = await startNodes(server.endpoint, ["c6"], [], 0);
    const joined = parseNode(await waitForKey(c, nodeKey("calc", "c6"), (v) => parseNode(v)?.release?.version === "1.1.0" && parseNode(v)?.status === "running", 60_000));
    expect(joined).toMatchObject({ nodePid: late!.nodePid });
    expect(await get(late!.port, "/code")).toBe("2");
  }, 300_000);

  it("--barrier with real nodes: each wave prepares and holds, then goes together; every node keeps its state", async () => {
    const server = await etcd();
    const nodes = await startNodes(server.endpoint, ids("b"));
    const before = await Promise.all(nodes.map(state));
    const result = await relup(args(server.endpoint, "good", ["--barrier", "--barrier-timeout", "30s", "--canary", "1", "--waves", "100%", "--soak", "1s"]), {}, 180_000);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^wave 1: every node prepared( at \S+)?: barrier go$/m);
    // Each node held at the barrier (prepared, on 1.0.0) before the go.
    for (const id of ids("b")) expect(result.stderr).toMatch(new RegExp(`^${id}: \\w+, runs 1\\.0\\.0, rollout prepared$`, "m"));
    const record = RolloutRecord.parse(JSON.parse((await client(server.endpoint).get(rolloutKey("calc")).string())!));
    expect(record.waves.map((w) => [w.state, w.barrier])).toEqual([["passed", "go"], ["passed", "go"]]);
    for (const [i, node] of nodes.entries()) expect(await state(node)).toEqual({ count: before[i]!.count, v: 2 });
  }, 300_000);

  it("etcd stopped while a wave holds at its barrier: every node aborts before the point of no return (its own timeout), nothing changed; the rollout reverts", async () => {
    const server = await etcd();
    const nodes = await startNodes(server.endpoint, ids("h"));
    const before = await Promise.all(nodes.map(state));
    const c = client(server.endpoint);
    const driver = driverProcess(args(server.endpoint, "good", ["--barrier", "--barrier-timeout", "3s", "--canary", "0", "--waves", "100%", "--soak", "1s", "--json"]));
    try {
      // The driver is frozen once it asked the wave to prepare, so that no decision is written before etcd goes.
      await waitForKey(c, rolloutKey("calc"), rolloutIs((r) => r.waves[0]!.state === "preparing"), 60_000);
      driver.child.kill("SIGSTOP");
      await Promise.all(ids("h").map((id) => waitForKey(c, nodeKey("calc", id), (v) => parseNode(v)?.rollout?.state === "prepared", 60_000)));
      await server.pause();
      // With no decision within the barrier's timeout, each node aborts its install by itself.
      await Promise.all(nodes.map((node) => waitForText(path.join(node.root, "log", "fleet.jsonl"), "fleet rollout aborted", 30_000)));
      for (const [i, node] of nodes.entries()) {
        expect(await state(node)).toEqual(before[i]);
        expect(await get(node.port, "/code")).toBe("1");
      }
      await server.resume();
    } finally {
      driver.child.kill("SIGCONT");
    }
    const record = RolloutRecord.parse(JSON.parse((await waitForKey(c, rolloutKey("calc"), rolloutIs((r) => r.state === "reverted"), 60_000).catch((error: Error) => {
      throw new Error(`${error.message}; the driver said:\n${driver.said()}`);
    }))!));
    // The driver, thawed, may act on the reports it had not read yet (all prepared: go) before it reads the aborts: either way the nodes' own aborts decide.
    expect(record.reason).toMatch(/^wave 0: .*h\d aborted[\s\S]*no decision (at barrier point_of_no_return )?within 3000 ms/);
    expect(["aborted", "failed"]).toContain(record.waves[0]!.state);
    await driver.exited;
    expect(driver.child.exitCode).toBe(1);
    for (const [i, node] of nodes.entries()) expect(await state(node)).toEqual(before[i]);
  }, 300_000);

  it("a release with a module that crashes: the canary's soak sees it, the rollout reverts, every node runs 1.0.0 with its state", async () => {
    const server = await etcd();
    const nodes = await startNodes(server.endpoint, ids("r"));
    const before = await Promise.all(nodes.map(state));
    const result = await relup(args(server.endpoint, "bad", ["--canary", "1", "--soak", "5s"]), {}, 180_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/reverted: wave 0 \(canary\): regression: r1: (process crashes|supervisor restarts) rose by \d+/);
    expect(result.stdout).toMatch(/^r1 +0 +counter 1\.0\.0 +running +reverted$/m);
    for (const [i, node] of nodes.entries()) {
      expect(await state(node)).toEqual(before[i]);
      expect(await get(node.port, "/code")).toBe("1");
    }
    expect(await client(server.endpoint).get(rolloutKey("calc")).string()).toContain('"state":"reverted"');
  }, 300_000);

  it("a node's launcher SIGKILLed mid-rollout: within --max-unavailable the rollout goes on; started again, the node converges to the new desired release", async () => {
    const server = await etcd();
    // Only k5 has a short lease: a healthy node starved for 2 s on a loaded machine must not leave the group.
    const nodes = [...(await startNodes(server.endpoint, ids("k").slice(0, 4))), ...(await startNodes(server.endpoint, ["k5"], ["--fleet-lease-ttl", "2"]))];
    const c = client(server.endpoint);
    const victim = nodes[4]!;
    // While the canary soaks, k5 (in the last wave) loses its launcher and its node: its lease expires.
    void waitForKey(c, rolloutKey("calc"), rolloutIs((r) => r.waves[0]!.state === "soaking"), 120_000).then(async () => {
      process.kill(await launcherPid(victim.root), "SIGKILL");
      process.kill(victim.nodePid, "SIGKILL");
    });
    const result = await relup(args(server.endpoint, "good", ["--canary", "1", "--waves", "2", "--soak", "3s", "--max-unavailable", "1"]), {}, 180_000);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^k5 +2 +- +gone +-$/m);
    for (const node of nodes.slice(0, 4)) expect(await get(node.port, "/code")).toBe("2");

    const again = await relup(["start", "--root", victim.root, "--detach", "--fleet", server.endpoint, "--group", "calc", "--node-id", "k5"], { ...REFRESH, PORT: String(victim.port) });
    expect(again.code, again.stderr).toBe(0);
    await waitForKey(c, nodeKey("calc", "k5"), (v) => parseNode(v)?.release?.version === "1.1.0" && parseNode(v)?.status === "running", 60_000);
    expect(await get(victim.port, "/code")).toBe("2");
  }, 300_000);

  it("the driver SIGKILLed mid-rollout: --resume drives it on to success", async () => {
    const server = await etcd();
    const nodes = await startNodes(server.endpoint, ids("d"));
    const c = client(server.endpoint);
    // The soak is long enough that the kill lands inside it on a loaded machine; --resume soaks the rest.
    const driver = driverProcess(args(server.endpoint, "good", ["--canary", "1", "--waves", "2", "--soak", "6s", "--deadline", "20s"]));
    try {
      await waitForKey(c, rolloutKey("calc"), rolloutIs((r) => r.waves[1]!.state === "soaking"), 120_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${driver.said()}`);
      });
    } finally {
      await driver.kill();
    }
    const resumed = await relup(["fleet", "rollout", "--resume", "--fleet", server.endpoint, "--group", "calc", "--timeout", "60s"], {}, 120_000);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/^resuming rollout .* \(running, at wave 1: soaking\)$/m);
    for (const node of nodes) expect(await get(node.port, "/code")).toBe("2");
  }, 300_000);

  it("the driver SIGKILLed and nobody resumes: the deadline passes and the nodes revert the rollout by themselves", async () => {
    const server = await etcd();
    const nodes = await startNodes(server.endpoint, ids("e"));
    const before = await Promise.all(nodes.map(state));
    const c = client(server.endpoint);
    const driver = driverProcess(args(server.endpoint, "good", ["--canary", "2", "--soak", "60s", "--deadline", "3s"]));
    try {
      await waitForKey(c, rolloutKey("calc"), rolloutIs((r) => r.waves[0]!.state === "soaking"), 120_000);
    } finally {
      await driver.kill();
    }
    expect(await waitForExit(driver.child.pid!, 5_000)).toBe(true);
    const reverted = RolloutRecord.parse(JSON.parse((await waitForKey(c, rolloutKey("calc"), rolloutIs((r) => r.state === "reverted"), 60_000))!));
    expect(reverted.reason).toBe("no driver for 3 s: the rollout's deadline passed");
    for (const [i, node] of nodes.entries()) {
      expect(await state(node)).toEqual(before[i]);
      expect(await get(node.port, "/code")).toBe("1");
    }
    const status = await relup(["fleet", "status", "--fleet", server.endpoint, "--group", "calc"]);
    expect(status.stdout).toMatch(/reason: no driver for 3 s: the rollout's deadline passed/);
    expect(status.stdout).toMatch(/^e1 +0 +counter 1\.0\.0 +running +reverted$/m);
  }, 300_000);
});
