/**
 * Fleet upgrade on a real node (a child process under its launcher, driven over its control socket):
 * N `server` processes of one module, state `{count: id, items: ['a','b','c']}`, upgraded to a version
 * whose codeChange migrates it to `{schema: 2, count, items, tags: ['migrated'], migratedFrom: oldVsn}`.
 * Reports the apply time, the whole-fleet pause (first suspend to last resume, from the node's own step
 * timings), the longest event-loop block in the node during the upgrade (monitorEventLoopDelay), the
 * longest block found by the node's own 1 ms timer and how much of it the garbage collector's pauses took
 * (the `metrics` window, loop-watch.ts), the collector's pauses during the upgrade, the
 * longest stall seen by a client calling one worker in a loop over HTTP meanwhile, and a bare-loop
 * baseline (the new module's own codeChange over N plain state objects in a for loop, in the same node,
 * run by one worker after the upgrade). Every process is checked to run the
 * new code after each run. Prints one JSON object on stdout.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { applyRelease } from "../src/apply/apply-release.ts";
import { freePort, get } from "../src/net-helpers.ts";
import { controlRequest } from "../src/runtime/control-client.ts";
import type { MetricsResult } from "../src/runtime/control-protocol.ts";
import { Launcher } from "../src/runtime/launcher.ts";
import { prepareRoot } from "../src/runtime/start-release.ts";
import { buildWorkerReleases } from "./fleet-worker.ts";

const only = process.argv.find((a) => a.startsWith("--sizes="));
const sizes = only ? only.slice(8).split(",").map(Number) : process.argv.includes("--quick") ? [1_000, 10_000] : [1_000, 10_000, 100_000, 1_000_000];


const runs = process.argv.includes("--quick") ? 1 : 3;
/** `--node-option=<flag>` (repeatable): more flags for the node, e.g. `--node-option=--max-semi-space-size=64` */
const nodeOptions = process.argv.filter((a) => a.startsWith("--node-option=")).map((a) => a.slice("--node-option=".length));
interface Run {
  applyMs: number;
  pauseMs: number;
  codeChangeMs: number;
  eventLoopMaxMs: number;
  /** the longest block during the upgrade (1 ms timer) and how much of it was GC; the collector's pauses meanwhile */
  blockMs: number;
  blockGcMs: number;
  /** the node's CPU time during that block, and how often the OS took the CPU from it */
  blockCpuMs: number;
  blockPreempted: number;
  /** the longest block over 500 ms with the client calling and no upgrade, and its CPU time */
  baselineBlockMs: number;
  baselineBlockCpuMs: number;
  gcTotalMs: number;
  gcMaxMs: number;
  clientStallMs: number;
  bareLoopMs: number;
  bootMs: number;
  heapPerProcessBytes: number;
}
const measured = new Map<number, Run[]>();
for (let run = 0; run < runs; run++) for (const n of sizes) measured.set(n, [...(measured.get(n) ?? []), await fleetRun(n)]);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, unknown> = {};
for (const [n, list] of measured) {
  const stat = (key: keyof Run) => ({ median: median(list.map((r) => r[key])), max: Math.max(...list.map((r) => r[key])) });
  const pause = stat("pauseMs");
  const bare = stat("bareLoopMs");
  results[`fleet_${n}`] = { processes: n, runs: list.length, applyMs: stat("applyMs"), pauseMs: pause, codeChangeMs: stat("codeChangeMs"), eventLoopMaxMs: stat("eventLoopMaxMs"), blockMs: stat("blockMs"), blockGcMs: stat("blockGcMs"), blockCpuMs: stat("blockCpuMs"), blockPreempted: stat("blockPreempted"), baselineBlockMs: stat("baselineBlockMs"), baselineBlockCpuMs: stat("baselineBlockCpuMs"), gcTotalMs: stat("gcTotalMs"), gcMaxMs: stat("gcMaxMs"), clientStallMs: stat("clientStallMs"), bareLoopMs: bare, bootMs: stat("bootMs"), heapPerProcessBytes: stat("heapPerProcessBytes"), pauseOverBareLoop: pause.median / Math.max(bare.median, 0.001) };
}
process.stdout.write(JSON.stringify(results) + "\n");

async function fleetRun(n: number): Promise<Run> {
  const work = await mkdtemp(path.join(os.tmpdir(), "relup-bench-fleet-"));
  let launcher: Launcher | undefined;
  try {
    const { v1, v2 } = await buildWorkerReleases(work);
    const root = path.join(work, "root");
    await prepareRoot(root, v1.tarball);
    const port = await freePort();
    await writeFile(path.join(root, "config.json"), JSON.stringify({ fleet: { port, workers: n } }));
    // A million processes need more heap than V8's default limit (about 4 GB here); --expose-gc lets the
    // heap per process be read after a collection. Both as `relup start --node-option` passes them.
    // The check below makes a million calls at once, which holds the node's event loop for seconds (more
    // on a loaded machine): longer than the launcher's 30 s watchdog would wait, which is no figure here;
    // nor is the 60 s boot limit, which a million processes can pass on a loaded machine.
    launcher = new Launcher({ root, heartbeatTimeoutMs: 300_000, bootTimeoutMs: 600_000, nodeOptions: ["--expose-gc", "--max-old-space-size=16384", ...nodeOptions] });
    const bootStarted = performance.now();
    await launcher.start();
    const bootMs = performance.now() - bootStarted;
    const { heapUsed } = (await controlRequest(root, { cmd: "metrics", gc: true })) as { heapUsed: number };
    // The machine's own baseline: the longest block of the same node, the same client calling it, over
    // 500 ms with no upgrade (on a shared machine the operating system alone makes blocks of a few ms).
    // After one call: the first dispatch after boot held the loop 200 ms at 1M processes (in AsyncLocalStorage's
    // first run, one CPU profile), which is no baseline of the machine.
    await get(port, "/one");
    await controlRequest(root, { cmd: "metrics", reset: true, blocks: true });
    const idle = callInLoop(port);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await idle.stop();
    const baseline = (await controlRequest(root, { cmd: "metrics" })) as MetricsResult;
    // A window that finds the longest block during the upgrade, and how much of it the collector took.
    await controlRequest(root, { cmd: "metrics", reset: true, blocks: true });
    const client = callInLoop(port);
    const started = performance.now();
    const applied = await applyRelease({ root, release: v2.tarball, confirm: async () => true });
    const applyMs = performance.now() - started;
    const stallMs = await client.stop();
    const { eventLoopMaxMs, gcPauses, longestBlock } = (await controlRequest(root, { cmd: "metrics" })) as MetricsResult;
    await controlRequest(root, { cmd: "metrics", reset: true });
    // A million calls take a while: the check gets five minutes per million processes.
    const codes = JSON.parse(await get(port, "/code", 10_000 + n * 0.3)) as number[];
    if (codes.length !== n || codes.some((c) => c !== 2)) throw new Error(`not every process runs the new code after the upgrade of ${n}`);
    const steps = applied.timings ?? [];
    const first = steps.findIndex((s) => s.op === "suspend");
    const last = steps.map((s) => s.op).lastIndexOf("resume");
    const pauseMs = steps.slice(first, last + 1).reduce((sum, s) => sum + s.ms, 0);
    const codeChangeMs = steps.filter((s) => s.op === "code_change").reduce((sum, s) => sum + s.ms, 0);
    const bareMs = Number(await get(port, `/bare/${n}`, 10_000 + n * 0.3));
    await controlRequest(root, { cmd: "status" });
    const none = { ms: 0, gcMs: 0, cpuMs: 0, preempted: 0 };
    const block = longestBlock ?? none;
    const base = baseline.longestBlock ?? none;
    return { applyMs, pauseMs, codeChangeMs, eventLoopMaxMs, blockMs: block.ms, blockGcMs: block.gcMs, blockCpuMs: block.cpuMs, blockPreempted: block.preempted, baselineBlockMs: base.ms, baselineBlockCpuMs: base.cpuMs, gcTotalMs: gcPauses.totalMs, gcMaxMs: gcPauses.maxMs, clientStallMs: stallMs, bareLoopMs: bareMs, bootMs, heapPerProcessBytes: heapUsed / n };
  } finally {
    await launcher?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** One worker called over HTTP in a loop, one request at a time; stop() ends it and gives its longest request (ms). */
function callInLoop(port: number): { stop(): Promise<number> } {
  let calling = true;
  let stallMs = 0;
  const loop = (async () => {
    for (let i = 0; i < 1_000_000 && calling; i++) {
      const t0 = performance.now();
      await get(port, "/one");
      stallMs = Math.max(stallMs, performance.now() - t0);
    }
  })();
  return {
    async stop() {
      calling = false;
      await loop;
      return stallMs;
    },
  };
}
