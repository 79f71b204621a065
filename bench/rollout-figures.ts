/**
 * A rollout across a fleet: NODES nodes (default 10) of N `server` processes each (default 10,000; the
 * worker of fleet-worker.ts, migrated by codeChange), a real etcd on loopback, every node started with
 * `relup start --fleet` under its own launcher, and `relup fleet rollout` run as the operator runs it.
 * Twice on fresh nodes: without and with `--barrier`.
 *
 *   total          the rollout command's wall time, from its start to its exit (canary 1, then waves of
 *                  50%, no soak: the time the machinery takes, not a soak window; the nodes' agents read
 *                  health every 500 ms, and each wave waits for one read per node after the install's)
 *   install        per node: the install's time on the node (its journal: first step to last)
 *   pause          per node: the longest suspend window of the worker module (its processes answer nothing)
 *   barrier        with --barrier, the time the rollout adds (total with minus total without), and per
 *                  node how long its install held at the barrier (the journal's barrier record: from
 *                  reaching it to the decision)
 *
 * `--nodes=10 --processes=10000`; `--quick`: 3 nodes of 1,000. Prints one JSON object on stdout.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort } from "../src/net-helpers.ts";
import { publishRelease } from "../src/fleet/publish-release.ts";
import { planReleases } from "../src/relup/plan-releases.ts";
import { controlRequest } from "../src/runtime/control-client.ts";
import type { InstallRecord } from "../src/runtime/install-journal.ts";
import { prepareRoot, startDetached } from "../src/runtime/start-release.ts";
import { tsEntryArgs } from "../src/runtime/tsx-entry.ts";
import { startEtcd } from "../scripts/lib/etcd-server.ts";
import { buildWorkerReleases } from "./fleet-worker.ts";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = process.argv.includes("--quick");
const NODES = Number(arg("nodes") ?? (quick ? 3 : 10));
const PROCESSES = Number(arg("processes") ?? (quick ? 1_000 : 10_000));
/** The agents' refresh: the soak waits for one compared health read per node, the second after its install. */
const REFRESH_MS = 500;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const stat = (xs: number[]) => ({ median: median(xs), max: Math.max(...xs), min: Math.min(...xs) });

/** The CLI in its own process; resolves with its exit code, or rejects with its output when it fails. */
function relup(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [...tsEntryArgs("../cli/main.ts"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`relup ${args.slice(0, 2).join(" ")} exited ${code}:\n${out}`))));
  });
}

const work = await mkdtemp(path.join(os.tmpdir(), "relup-bench-rollout-"));
const etcd = await startEtcd();
const roots: string[] = [];
try {
  const { v1, v2 } = await buildWorkerReleases(work);
  const planFile = path.join(work, "fleet-1.0.0-2.0.0.relup.json");
  await writeFile(planFile, JSON.stringify((await planReleases({ from: v1.tarball, to: v2.tarball })).file));
  const store = `file://${path.join(work, "store")}`;
  await publishRelease({ tarball: v2.tarball, store });

  const run = async (group: string, barrier: boolean) => {
    const groupRoots: string[] = [];
    // Nodes start one after another: the machine's cores, not the rollout, would otherwise be measured.
    for (let i = 0; i < NODES; i++) {
      const root = path.join(work, group, `node-${i}`);
      await prepareRoot(root, v1.tarball);
      await writeFile(path.join(root, "config.json"), JSON.stringify({ fleet: { port: await freePort(), workers: PROCESSES } }));
      roots.push(root);
      groupRoots.push(root);
      await startDetached(root, { fleet: { endpoints: [etcd.endpoint], group, nodeId: `node-${i}`, leaseTtlS: 10 }, env: { ...process.env, RELUP_FLEET_REFRESH_MS: String(REFRESH_MS) } });
    }
    const started = performance.now();
    await relup(["fleet", "rollout", "fleet@2.0.0", "--plan", planFile, "--store", store, "--fleet", etcd.endpoint, "--group", group, "--canary", "1", "--waves", "50%", "--soak", "0s", ...(barrier ? ["--barrier"] : []), "--yes"]);
    const totalMs = performance.now() - started;
    const installs: number[] = [];
    const pauses: number[] = [];
    const holds: number[] = [];
    for (const root of groupRoots) {
      const journal = await controlRequest(root, { cmd: "journal" });
      const install = journal.records.filter((r: InstallRecord) => r.kind === "install" && r.outcome === "installed").at(-1);
      if (!install) throw new Error(`${root}: no install in the node's journal`);
      installs.push(install.endedAt! - install.startedAt);
      pauses.push(Math.max(...install.suspensions.map((s) => (s.end ?? install.endedAt!) - s.start)));
      if (barrier) {
        // The hold: from the node reaching its barrier point to the driver's decision reaching it.
        const held = (install.barriers ?? []).filter((b) => b.waits && b.end !== undefined);
        if (held.length === 0) throw new Error(`${root}: the install held at no barrier: ${JSON.stringify(install.barriers)} ${JSON.stringify(install.steps.map((s) => s.op))}`);
        holds.push(held.reduce((sum, b) => sum + (b.end! - b.start), 0));
      }
      await controlRequest(root, { cmd: "stop" });
    }
    return { totalMs, installMs: stat(installs), pauseMs: stat(pauses), ...(barrier ? { holdMs: stat(holds) } : {}) };
  };
  const plain = await run("plain", false);
  const withBarrier = await run("barrier", true);
  process.stdout.write(JSON.stringify({ nodes: NODES, processes: PROCESSES, loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100), plain, barrier: { ...withBarrier, addedMs: withBarrier.totalMs - plain.totalMs } }, null, 2) + "\n");
} finally {
  for (const root of roots) await controlRequest(root, { cmd: "stop" }).catch(() => undefined);
  await etcd.stop();
  await rm(work, { recursive: true, force: true });
}
