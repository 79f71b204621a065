/**
 * Fleet membership with a real etcd and real nodes: `relup start --fleet --group` registers the node
 * under a lease from its launcher, `relup fleet status` lists the group, and the record follows the node:
 * ready, upgraded live, stopped (gone at once), killed (gone when the lease expires), restarted (its own
 * record taken over), its lease revoked by someone else (registered again). Waits are on etcd's watch
 * events, with timeouts.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, get } from "../../src/net-helpers.ts";
import { buildRelease } from "../../src/relup/build-with-plans.ts";
import { NodeRecord, nodeKey } from "../../src/fleet/node-record.ts";
import { startRelease } from "../../src/runtime/start-release.ts";
import { waitForExit } from "../../src/runtime/process-exit.ts";
import { launcherPid, useEtcdClients, useFleetNodes } from "../helpers/fleet-nodes.ts";
import { useEtcd } from "../helpers/etcd.ts";
import { waitForKey } from "../helpers/etcd-watch.ts";
import { waitForText } from "../helpers/wait-for-text.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const etcd = useEtcd();

let built: string;
let v1: string;
let v2: string;
beforeAll(async () => {
  built = await mkdtemp(path.join(os.tmpdir(), "relup-membership-"));
  v1 = (await buildRelease({ dir: "fixtures/calculator/1.0.0", out: built })).tarball;
  v2 = (await buildRelease({ dir: "fixtures/calculator/1.1.0", out: built })).tarball;
});
afterAll(() => rm(built, { recursive: true, force: true }));

const client = useEtcdClients();

/** `relup start v1 --detach --fleet …` in a new root; the node's HTTP port, root and pids. */
const startNode = useFleetNodes(tempDir, () => v1);

const parse = (value: string | undefined) => (value === undefined ? undefined : NodeRecord.parse(JSON.parse(value)));

describe("fleet membership", () => {
  it("nodes started with --fleet are listed by `relup fleet status` with their release, and a live upgrade shows; a stopped node leaves at once", async () => {
    const server = await etcd();
    const nodes = [];
    for (const id of ["n1", "n2", "n3"]) {
      const node = await startNode(server.endpoint, id);
      expect(node.result).toMatchObject({ code: 0 });
      nodes.push(node);
    }
    const status = await relup(["fleet", "status", "--fleet", server.endpoint, "--group", "calc", "--json"]);
    expect(status.code).toBe(0);
    const listing = JSON.parse(status.stdout) as { nodes: NodeRecord[]; unreadable: unknown[] };
    expect(listing.unreadable).toEqual([]);
    expect(listing.nodes.map((n) => [n.id, n.status, n.release, n.nodePid, n.root])).toEqual(nodes.map((n, i) => [`n${i + 1}`, "running", { name: "calculator", version: "1.0.0" }, n.nodePid, n.root]));
    const text = await relup(["fleet", "status", "--fleet", server.endpoint, "--group", "calc"]);
    expect(text.stdout).toMatch(/^group calc: 3 nodes\nNODE +HOST +RELEASE +STATUS +SINCE +PID\nn1 .*calculator 1\.0\.0 +running/);

    // A live upgrade of n2: its record says 1.1.0 once the launcher has asked the node.
    const c = client(server.endpoint);
    expect((await relup(["apply", v2, "--root", nodes[1]!.root, "--yes"])).code).toBe(0);
    expect(await get(nodes[1]!.port, "/calculate/2/2")).toBe("8");
    const upgraded = parse(await waitForKey(c, nodeKey("calc", "n2"), (v) => parse(v)?.release?.version === "1.1.0"));
    expect(upgraded).toMatchObject({ status: "running", nodePid: nodes[1]!.nodePid });

    expect((await relup(["stop", "--root", nodes[0]!.root])).code).toBe(0);
    expect(await c.get(nodeKey("calc", "n1")).string()).toBeNull();
    const after = JSON.parse((await relup(["fleet", "status", "--fleet", server.endpoint, "--group", "calc", "--json"])).stdout) as { nodes: NodeRecord[] };
    expect(after.nodes.map((n) => n.id)).toEqual(["n2", "n3"]);
    const log = await readFile(path.join(nodes[0]!.root, "log", "fleet.jsonl"), "utf8");
    expect(log).toContain('"event":"fleet joined"');
    expect(log).toContain('"event":"fleet left"');
  }, 120_000);

  it("a node whose launcher is killed leaves the group when its lease expires; restarted, it takes its record over", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const node = await startNode(server.endpoint, "k1", ["--fleet-lease-ttl", "2"]);
    expect(node.result.code).toBe(0);
    const launcher = await launcherPid(node.root);
    process.kill(launcher, "SIGKILL");
    process.kill(node.nodePid, "SIGKILL");
    await waitForExit(launcher);
    await waitForExit(node.nodePid);
    expect(await waitForKey(c, nodeKey("calc", "k1"), (v) => v === undefined)).toBeUndefined();

    // Killed again and restarted at once, within a long lease: the old record is its own, and is replaced.
    const again = await relup(["start", "--root", node.root, "--detach", "--fleet", server.endpoint, "--group", "calc", "--node-id", "k1", "--fleet-lease-ttl", "60"], { PORT: String(node.port) });
    expect(again.code).toBe(0);
    const second = await launcherPid(node.root);
    process.kill(second, "SIGKILL");
    process.kill(Number(again.stdout.trim()), "SIGKILL");
    await waitForExit(second);
    const third = await relup(["start", "--root", node.root, "--detach", "--fleet", server.endpoint, "--group", "calc", "--node-id", "k1"], { PORT: String(node.port) });
    expect(third).toMatchObject({ code: 0 });
    const record = parse((await c.get(nodeKey("calc", "k1")).string()) ?? undefined);
    expect(record).toMatchObject({ status: "running", launcherPid: await launcherPid(node.root), nodePid: Number(third.stdout.trim()) });
    expect(await readFile(path.join(node.root, "log", "fleet.jsonl"), "utf8")).toContain('"event":"fleet record taken over"');
  }, 120_000);

  it("a node whose launcher alone is killed serves on without it: a new start says so and how to recover", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const node = await startNode(server.endpoint, "o1", ["--fleet-lease-ttl", "2"]);
    expect(node.result.code).toBe(0);
    const launcher = await launcherPid(node.root);
    process.kill(launcher, "SIGKILL");
    await waitForExit(launcher);
    expect(await waitForKey(c, nodeKey("calc", "o1"), (v) => v === undefined)).toBeUndefined();
    expect(await get(node.port, "/calculate/2/2")).toBe("4");
    const again = await relup(["start", "--root", node.root, "--detach", "--fleet", server.endpoint, "--group", "calc", "--node-id", "o1"], { PORT: String(node.port) });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`a node is running there without its launcher (pid ${node.nodePid}, calculator 1.0.0)`);
    expect(again.stderr).toContain(`Fix: \`relup stop --root ${node.root}\` (its in-memory state is lost), then start it again.`);
    expect((await relup(["stop", "--root", node.root])).code).toBe(0);
    await waitForExit(node.nodePid);
  }, 60_000);

  it("a node that dies says restarting, then running with its new pid; a stopped node never says restarting", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const node = await startNode(server.endpoint, "d1");
    expect(node.result.code).toBe(0);
    const key = nodeKey("calc", "d1");
    const statuses: string[] = [];
    const watcher = await c.watch().key(key).create();
    watcher.on("put", (kv) => statuses.push(parse(kv.value.toString())!.status));
    watcher.on("delete", () => statuses.push("deleted"));
    process.kill(node.nodePid, "SIGKILL");
    const back = parse(await waitForKey(c, key, (v) => parse(v)?.status === "running" && ![null, node.nodePid].includes(parse(v)!.nodePid)));
    const status = await relup(["status", "--root", node.root, "--json"]);
    expect(status.stderr).toBe("");
    expect(back?.nodePid).toBe((JSON.parse(status.stdout) as { pid: number }).pid);
    expect(statuses).toContain("restarting");
    statuses.length = 0;
    expect((await relup(["stop", "--root", node.root])).code).toBe(0);
    await waitForKey(c, key, (v) => v === undefined);
    await watcher.cancel();
    expect(statuses).not.toContain("restarting");
    expect(statuses.at(-1)).toBe("deleted");
  }, 120_000);

  it("a node whose lease is revoked by someone else registers again under a new lease", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const node = await startNode(server.endpoint, "r1");
    expect(node.result.code).toBe(0);
    const key = nodeKey("calc", "r1");
    const kv = (await c.get(key).exec()).kvs[0]!;
    // The node may refresh its record under the old lease before the revoke: what counts is what follows the delete.
    const seen: { event: "put" | "delete"; lease: string }[] = [];
    const watcher = await c.watch().key(key).create();
    watcher.on("delete", (kv) => seen.push({ event: "delete", lease: String(kv.lease) }));
    watcher.on("put", (kv) => seen.push({ event: "put", lease: String(kv.lease) }));
    await c.leaseClient.leaseRevoke({ ID: kv.lease });
    const back = parse(await waitForKey(c, key, (v) => v !== undefined && (parse(v)?.status === "running")));
    await watcher.cancel();
    const deleted = seen.findIndex((e) => e.event === "delete");
    expect(deleted, JSON.stringify(seen)).toBeGreaterThanOrEqual(0);
    expect(seen.slice(0, deleted).every((e) => e.lease === String(kv.lease))).toBe(true);
    expect(seen.slice(deleted + 1).length).toBeGreaterThan(0);
    expect(seen.slice(deleted + 1).every((e) => e.event === "put" && e.lease !== String(kv.lease))).toBe(true);
    expect(back).toMatchObject({ id: "r1", nodePid: node.nodePid });
    expect((await c.get(key).exec()).kvs[0]!.lease).not.toBe(kv.lease);
  }, 120_000);

  it("etcd down for longer than the lease: the node keeps serving, and its launcher registers it again once etcd is back", async () => {
    const server = await etcd();
    const node = await startNode(server.endpoint, "e1", ["--fleet-lease-ttl", "2"]);
    expect(node.result.code).toBe(0);
    const key = nodeKey("calc", "e1");
    const before = (await client(server.endpoint).get(key).exec()).kvs[0]!.lease;
    const log = path.join(node.root, "log", "fleet.jsonl");
    await server.pause();
    await waitForText(log, '"event":"fleet lease lost"', 60_000);
    expect(await get(node.port, "/calculate/2/2")).toBe("4");
    await server.resume();
    await waitForText(log, '"event":"fleet rejoined"', 60_000);
    const kv = (await client(server.endpoint).get(key).exec()).kvs[0]!;
    expect(kv.lease).not.toBe(before);
    expect(parse(kv.value.toString())).toMatchObject({ id: "e1", status: "running", nodePid: node.nodePid });
    expect(await get(node.port, "/calculate/2/2")).toBe("4");
  }, 120_000);

  it("refuses an id a live node of another root holds, and an etcd that does not answer; nothing runs", async () => {
    const server = await etcd();
    expect((await startNode(server.endpoint, "dup")).result.code).toBe(0);
    const taken = await startNode(server.endpoint, "dup");
    expect(taken.result.code).toBe(2);
    expect(taken.result.stderr).toContain('node id "dup" is already registered in group "calc" by a live node');
    expect(taken.result.stderr).toContain("--node-id");
    expect(existsSync(path.join(taken.root, "run", "launcher.pid"))).toBe(false);

    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const down = await startNode(nowhere, "x1");
    expect(down.result.code).toBe(1);
    expect(down.result.stderr).toContain(`etcd at ${nowhere}: no answer`);
    expect(existsSync(path.join(down.root, "run", "launcher.pid"))).toBe(false);
    const status = await relup(["fleet", "status", "--fleet", nowhere, "--group", "calc"]);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`etcd at ${nowhere}: no answer`);
    // The client's own wording, without gRPC's empty trailer.
    expect(status.stderr).toMatch(/no answer \(14 UNAVAILABLE: .*ECONNREFUSED [^)]*\)\. Fix: /);
    expect(status.stderr).not.toContain("Resolution note");
  }, 120_000);

  it("a node started in this process (relup start without --detach) leaves the group when stopped", async () => {
    const server = await etcd();
    const c = client(server.endpoint);
    const root = path.join(await tempDir(), "root");
    const started = await startRelease({ root, release: v1, detach: false, env: { ...process.env, PORT: String(await freePort()) }, fleet: { endpoints: [server.endpoint], group: "calc", nodeId: "inproc", leaseTtlS: 10 } });
    try {
      expect(parse((await c.get(nodeKey("calc", "inproc")).string()) ?? undefined)).toMatchObject({ status: "running", launcherPid: process.pid });
    } finally {
      await started.launcher.stop();
      await started.membership?.stop();
    }
    expect(await c.get(nodeKey("calc", "inproc")).string()).toBeNull();
  }, 120_000);

  it("bad fleet options are bad usage, before anything is written", async () => {
    const root = path.join(await tempDir(), "root");
    const cases: [string[], string][] = [
      [["--group", "calc"], "belong to --fleet"],
      [["--fleet", "http://127.0.0.1:2379"], "--fleet needs the node's group"],
      [["--fleet", "127.0.0.1:2379", "--group", "calc"], "an etcd endpoint is a client URL"],
      [["--fleet", "http://127.0.0.1:2379", "--group", "calc", "--node-id", "a/b"], "--node-id \"a/b\""],
      [["--fleet", "http://127.0.0.1:2379", "--group", "calc", "--fleet-lease-ttl", "1"], "--fleet-lease-ttl must be whole seconds"],
    ];
    for (const [args, message] of cases) {
      const result = await relup(["start", v1, "--root", root, "--detach", ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    }
    expect(existsSync(root)).toBe(false);
    const status = await relup(["fleet", "status", "--fleet", "nope", "--group", "calc"]);
    expect(status.code).toBe(2);
  }, 120_000);
});
