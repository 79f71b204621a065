/**
 * The node agent with a real etcd and real nodes: `relup fleet desire` writes the group's desired release
 * (read from the store's record), and every `--fleet` node fetches it (pinned), unpacks and installs it
 * live with the plan, reporting in its record: same node pids, the listener kept in its process's state.
 * A tampered tarball in the store is refused by every node, which stays on 1.0.0 and says why; a node
 * started after the desire converges too. Waits are on etcd's watch events, with timeouts.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get } from "../../src/net-helpers.ts";
import { buildRelease } from "../../src/relup/build-with-plans.ts";
import { desiredKey, DesiredRecord } from "../../src/fleet/desired-record.ts";
import { NodeRecord, nodeKey } from "../../src/fleet/node-record.ts";
import { useEtcdClients, useFleetNodes } from "../helpers/fleet-nodes.ts";
import { useEtcd } from "../helpers/etcd.ts";
import { waitForKey } from "../helpers/etcd-watch.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const etcd = useEtcd();

let built: string;
let v1: string;
let v2: string;
let plan: string;
beforeAll(async () => {
  built = await mkdtemp(path.join(os.tmpdir(), "relup-agent-"));
  v1 = (await buildRelease({ dir: "fixtures/calculator/1.0.0", out: built })).tarball;
  v2 = (await buildRelease({ dir: "fixtures/calculator/1.1.0", out: built })).tarball;
  const generated = await relup(["generate", v1, v2, "-o", path.join(built, "plans")]);
  expect(generated.code).toBe(0);
  plan = path.join(built, "plans", "1.0.0-1.1.0.json");
}, 120_000);
afterAll(() => rm(built, { recursive: true, force: true }));

const client = useEtcdClients();
const startFleetNode = useFleetNodes(tempDir, () => v1);

async function startNode(endpoint: string, id: string, extra: string[] = []) {
  const node = await startFleetNode(endpoint, id, extra);
  expect(node.result).toMatchObject({ code: 0 });
  return node;
}

async function publishedStore(tarball = v2): Promise<{ dir: string; url: string }> {
  const dir = await tempDir();
  const url = pathToFileURL(dir).href;
  expect((await relup(["fleet", "publish", tarball, "--store", url])).code).toBe(0);
  return { dir, url };
}

const parse = (value: string | undefined) => (value === undefined ? undefined : NodeRecord.parse(JSON.parse(value)));
const desire = (endpoint: string, store: string, extra: string[] = []) => relup(["fleet", "desire", "calculator@1.1.0", "--plan", plan, "--store", store, "--fleet", endpoint, "--group", "calc", "--yes", "--timeout", "120", ...extra]);

describe("fleet node agent", () => {
  it("desire 1.1.0: every node fetches, unpacks and installs it live (same pids, listener kept) and reports running", async () => {
    const server = await etcd();
    const store = await publishedStore();
    const nodes = [];
    for (const id of ["a1", "a2", "a3"]) nodes.push(await startNode(server.endpoint, id));

    const result = await desire(server.endpoint, store.url);
    expect(result.stderr).toContain("3 nodes of group calc run calculator 1.1.0");
    expect(result.stderr).toMatch(/^a1: running \(runs 1\.1\.0\)$/m);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^group calc: 3 nodes\n/);
    const c = client(server.endpoint);
    const desired = DesiredRecord.parse(JSON.parse((await c.get(desiredKey("calc")).string())!));
    expect(desired).toMatchObject({ generation: 1, release: { name: "calculator", version: "1.1.0" }, plan: { inline: { from: { version: "1.0.0" }, to: { version: "1.1.0" } } } });
    for (const [i, node] of nodes.entries()) {
      const record = parse((await c.get(nodeKey("calc", `a${i + 1}`)).string()) ?? undefined);
      expect(record).toMatchObject({ status: "running", release: { name: "calculator", version: "1.1.0" }, nodePid: node.nodePid, desired: { generation: 1, version: "1.1.0" } });
      expect(record?.desired?.failure).toBeUndefined();
      // The same node process, its HTTP listener (held in a process's state) kept, the new code running.
      expect(await get(node.port, "/calculate/2/2")).toBe("8");
      const log = await readFile(path.join(node.root, "log", "fleet.jsonl"), "utf8");
      expect(log).toContain('"event":"fleet fetching"');
      expect(log).toContain('"event":"fleet applying"');
      expect(log).toContain('"event":"fleet desired release running"');
    }
    const releases = await relup(["releases", "--root", nodes[0]!.root]);
    expect(releases.stdout).toMatch(/1\.1\.0\s+current/);
  }, 240_000);

  it("a tampered tarball in the store: every node refuses it (sha256), reports failed, and still runs 1.0.0", async () => {
    const server = await etcd();
    const store = await publishedStore();
    // Other bytes where the published tarball was: the pin in etcd (from the record) no longer matches.
    await copyFile(v1, path.join(store.dir, "calculator", "calculator-1.1.0.tar.gz"));
    const nodes = [];
    for (const id of ["t1", "t2", "t3"]) nodes.push(await startNode(server.endpoint, id));

    const result = await desire(server.endpoint, store.url);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/3 nodes failed \(t1, t2, t3\)/);
    expect(result.stdout).toMatch(/t1 failed to converge to 1\.1\.0 \(desired generation 1\):\n.*sha256 is [0-9a-f]{64}, expected [0-9a-f]{64} \(pinned by the desired release of group calc in etcd \(generation 1\)\)/);
    const status = await relup(["fleet", "status", "--fleet", server.endpoint, "--group", "calc"]);
    expect(status.stdout).toMatch(/t3 failed to converge to 1\.1\.0 \(desired generation 1\):\n.*sha256 is/);
    const c = client(server.endpoint);
    for (const [i, node] of nodes.entries()) {
      const record = parse((await c.get(nodeKey("calc", `t${i + 1}`)).string()) ?? undefined);
      expect(record).toMatchObject({ status: "failed", release: { version: "1.0.0" }, nodePid: node.nodePid, desired: { generation: 1, version: "1.1.0" } });
      expect(record?.desired?.failure).toContain("sha256");
      expect(await get(node.port, "/calculate/2/2")).toBe("4");
      expect((await relup(["releases", "--root", node.root])).stdout).not.toContain("1.1.0");
      expect(await readFile(path.join(node.root, "log", "fleet.jsonl"), "utf8")).toContain('"event":"fleet desired release failed"');
    }
  }, 240_000);

  it("a node started after the desire boots its root's release, then converges to the desired one; restarted by its launcher, it converges again", async () => {
    const server = await etcd();
    const store = await publishedStore();
    expect((await desire(server.endpoint, store.url, ["--no-wait"])).code).toBe(0);
    const late = await startNode(server.endpoint, "late");
    const c = client(server.endpoint);
    const record = parse(await waitForKey(c, nodeKey("calc", "late"), (v) => parse(v)?.status === "running" && parse(v)?.release?.version === "1.1.0", 60_000));
    expect(record).toMatchObject({ nodePid: late.nodePid, desired: { generation: 1, version: "1.1.0" } });
    expect(await get(late.port, "/calculate/2/2")).toBe("8");

    // The node dies: its launcher restarts it on the permanent release (1.0.0), and the agent upgrades it again.
    process.kill(late.nodePid, "SIGKILL");
    const again = parse(await waitForKey(c, nodeKey("calc", "late"), (v) => {
      const r = parse(v);
      return r?.status === "running" && r.nodePid !== null && r.nodePid !== late.nodePid && r.release?.version === "1.1.0";
    }, 60_000));
    expect(again).toMatchObject({ desired: { generation: 1, version: "1.1.0" } });
    expect(await get(late.port, "/calculate/2/2")).toBe("8");
  }, 240_000);

  it("with --trusted-key, a node refuses an unsigned release (reported, nothing changed) and installs the signed one desired next", async () => {
    const server = await etcd();
    const keys = await tempDir();
    expect((await relup(["keygen", "--out", keys])).code).toBe(0);
    const node = await startNode(server.endpoint, "s1", ["--trusted-key", path.join(keys, "relup-release.pub")]);
    const unsigned = await publishedStore();
    const refused = await desire(server.endpoint, unsigned.url);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/s1 failed to converge to 1\.1\.0 \(desired generation 1\):\n.*calculator-1\.1\.0\.tar\.gz: is not signed/);
    // The store's URL cannot be signed: the fix names the built tarball and publishing it again.
    expect(refused.stdout).toContain("Fix: sign the built tarball (`relup sign _build/calculator-1.1.0.tar.gz --key <private key>`), then publish it again");
    expect(await get(node.port, "/calculate/2/2")).toBe("4");

    const signedDir = await tempDir();
    const signed = path.join(signedDir, path.basename(v2));
    await copyFile(v2, signed);
    expect((await relup(["sign", signed, "--key", path.join(keys, "relup-release.key")])).code).toBe(0);
    const store = await publishedStore(signed);
    const result = await desire(server.endpoint, store.url);
    expect(result.code).toBe(0);
    const record = parse((await client(server.endpoint).get(nodeKey("calc", "s1")).string()) ?? undefined);
    expect(record).toMatchObject({ status: "running", release: { version: "1.1.0" }, nodePid: node.nodePid, desired: { generation: 2, version: "1.1.0" } });
    expect(await get(node.port, "/calculate/2/2")).toBe("8");
  }, 240_000);

  it("a plan the node refuses (edited after generation, fetched from its URL): failed with why, nothing changed on the node", async () => {
    const server = await etcd();
    const store = await publishedStore();
    const node = await startNode(server.endpoint, "p1");
    const edited = JSON.parse(await readFile(plan, "utf8")) as { up: unknown[] };
    const planFile = path.join(store.dir, "edited-plan.json");
    await writeFile(planFile, JSON.stringify({ ...edited, up: edited.up.slice(1) }));
    const result = await relup(["fleet", "desire", "calculator@1.1.0", "--plan", pathToFileURL(planFile).href, "--store", store.url, "--fleet", server.endpoint, "--group", "calc", "--yes", "--timeout", "120"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/p1 failed to converge to 1\.1\.0 \(desired generation 1\):\ninstalling calculator 1\.1\.0 with the plan from file:\/\/.*edited-plan\.json \(written to .*\):\n.* is not the plan `relup generate` makes/);
    const record = parse((await client(server.endpoint).get(nodeKey("calc", "p1")).string()) ?? undefined);
    expect(record).toMatchObject({ status: "failed", release: { version: "1.0.0" }, nodePid: node.nodePid });
    expect(await get(node.port, "/calculate/2/2")).toBe("4");
    expect((await relup(["releases", "--root", node.root])).stdout).not.toContain("1.1.0");
  }, 240_000);

  it("`relup fleet desire` refuses, writing nothing: a plan of another build, a plan file that is not there, a release not in the store, no --yes without a terminal; `relup start --trusted-key` with a missing key", async () => {
    const server = await etcd();
    const store = await publishedStore();
    const c = client(server.endpoint);
    const base = ["--store", store.url, "--fleet", server.endpoint, "--group", "calc", "--yes"];
    const back = path.join(built, "plans", "back.json");
    const original = JSON.parse(await readFile(plan, "utf8")) as { to: { identity: string } };
    await writeFile(back, JSON.stringify({ ...original, to: { ...original.to, identity: "0".repeat(64) } }));
    const otherBuild = await relup(["fleet", "desire", "calculator@1.1.0", "--plan", back, ...base]);
    expect(otherBuild.code).toBe(2);
    expect(otherBuild.stderr).toMatch(/back\.json: is the plan of calculator 1\.0\.0 → 1\.1\.0, not a plan to or from the published calculator 1\.1\.0 .*Nothing was written/);
    const missing = await relup(["fleet", "desire", "calculator@2.0.0", "--plan", plan, ...base]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("calculator 2.0.0 is not published in this store");
    const noPlan = await relup(["fleet", "desire", "calculator@1.1.0", "--plan", path.join(built, "plans", "nowhere.json"), ...base]);
    expect(noPlan.code).toBe(2);
    expect(noPlan.stderr).toContain("nowhere.json: not found (no such file). Fix: check the path, or write the plan with `relup generate <from release> <to release> -o plans/`");
    const unconfirmed = await relup(["fleet", "desire", "calculator-1.1.0.tar.gz", "--plan", plan, ...base.slice(0, -1)]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("pass --yes");
    expect(await c.get(desiredKey("calc")).string()).toBeNull();

    // A trusted key that cannot be used fails `relup start --fleet` before anything is installed or run.
    const root = path.join(await tempDir(), "root");
    const badKey = await relup(["start", v1, "--root", root, "--detach", "--fleet", server.endpoint, "--group", "calc", "--trusted-key", path.join(built, "missing.pub")]);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain("missing.pub");
    expect(existsSync(path.join(root, "releases"))).toBe(false);
  }, 60_000);
});
