/**
 * What `relup observe` costs the node, and how late the page is. A real node of N `server` processes
 * (the fleet of fleet-figures.ts: one supervisor, N workers, a stateful upgrade of all of them) under its
 * launcher; the dashboard served in this process and opened in chromium (playwright-core).
 *
 *   closed / open   the node's event-loop delay (longest and p99, `metrics` windows of WINDOW_MS) with no
 *                   dashboard, then with one open, alternated RUNS times; the load average beside them
 *   requests        how long the node takes to answer each read the dashboard makes every second
 *                   (status, process-summary, tree, samples) and one page of processes, at N
 *   latency         during the upgrade, for every journal event the browser receives: its arrival time
 *                   minus the newest time the node wrote in the journal (same machine, same clock)
 *
 * `--sizes=1000,100000` (default 100000), `--runs=3`, `--screenshots=DIR` (PNG of the dashboard during
 * and after the upgrade). Prints one JSON object on stdout. Needs chromium (RELUP_CHROMIUM names it).
 */
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { applyRelease } from "../src/apply/apply-release.ts";
import { freePort } from "../src/net-helpers.ts";
import { startObserveServer } from "../src/observe/observe-server.ts";
import { controlRequest } from "../src/runtime/control-client.ts";
import { Launcher } from "../src/runtime/launcher.ts";
import { prepareRoot } from "../src/runtime/start-release.ts";
import { buildWorkerReleases } from "./fleet-worker.ts";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const sizes = (arg("sizes") ?? "100000").split(",").map(Number);
const runs = Number(arg("runs") ?? 3);
const screenshots = arg("screenshots");
const WINDOW_MS = 10_000;


/** The page's document, in functions that run in the page (this file is compiled without the DOM's types; the page's CSP allows no string eval). */
interface PageDocument {
  querySelector(selector: string): { textContent: string | null } | null;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? NaN;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

const browser = await chromium.launch({ executablePath: process.env.RELUP_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const results: Record<string, unknown> = {};
try {
  for (const n of sizes) results[`observe_${n}`] = await measure(n);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results, null, 2) + "\n");

async function measure(n: number) {
  const work = await mkdtemp(path.join(os.tmpdir(), "relup-bench-observe-"));
  let launcher: Launcher | undefined;
  try {
    const { v1, v2 } = await buildWorkerReleases(work);
    const root = path.join(work, "root");
    await prepareRoot(root, v1.tarball);
    await writeFile(path.join(root, "config.json"), JSON.stringify({ fleet: { port: await freePort(), workers: n } }));
    launcher = new Launcher({ root, nodeOptions: ["--max-old-space-size=16384"] });
    await launcher.start();
    const server = await startObserveServer({ root });
    // Event-loop delay of the node over a window, with the dashboard closed or open.
    const window = async () => {
      await controlRequest(root, { cmd: "metrics", reset: true, blocks: true });
      await sleep(WINDOW_MS);
      const m = await controlRequest(root, { cmd: "metrics", reset: true });
      return { maxMs: m.eventLoopMaxMs, p99Ms: m.eventLoopP99Ms, blockMs: m.longestBlock?.ms ?? NaN, blockCpuMs: m.longestBlock?.cpuMs ?? NaN, preempted: m.longestBlock?.preempted ?? NaN };
    };
    type Window = Awaited<ReturnType<typeof window>>;
    const closed: Window[] = [];
    const open: Window[] = [];
    const loads: string[] = [];
    for (let run = 0; run < runs; run++) {
      loads.push(loadavg());
      closed.push(await window());
      const context = await browser.newContext({ viewport: { width: 1360, height: 1100 } });
      const page = await context.newPage();
      await page.goto(server.url);
      await page.waitForFunction(() => (globalThis as unknown as { document: PageDocument }).document.querySelector("#process-list tbody tr") !== null, undefined, { timeout: 120_000 });
      open.push(await window());
      await context.close();
      // The feed stops once the last page is gone: the next closed window is a closed one.
      await sleep(1_500);
    }
    // How long each read takes the node at this size (the client's round trip over the socket).
    const timed = async (request: Parameters<typeof controlRequest>[1]) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await controlRequest(root, request);
        times.push(performance.now() - started);
      }
      return median(times);
    };
    const requests = { statusMs: await timed({ cmd: "status" }), processSummaryMs: await timed({ cmd: "process-summary" }), treeMs: await timed({ cmd: "tree" }), samplesMs: await timed({ cmd: "samples" }), processPageMs: await timed({ cmd: "process-page", limit: 50, offset: n / 2 }), processPageByQueueMs: await timed({ cmd: "process-page", limit: 50, sort: "queue" }) };
    // Latency: a page listening to the same event stream as the dashboard, during the upgrade.
    const context = await browser.newContext({ viewport: { width: 1360, height: 1100 } });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => (globalThis as unknown as { document: PageDocument }).document.querySelector("#process-list tbody tr") !== null, undefined, { timeout: 120_000 });
    await page.evaluate(() => {
      const w = globalThis as unknown as { lags: number[]; EventSource: new (url: string) => { addEventListener(name: string, f: (e: { data: string }) => void): void } };
      const lags: number[] = (w.lags = []);
      new w.EventSource("events").addEventListener("journal", (e) => {
        const r = (JSON.parse(e.data) as { records: { startedAt: number; endedAt?: number; steps: { start: number; end?: number }[] }[] }).records.at(-1);
        if (!r) return;
        lags.push(Date.now() - Math.max(r.startedAt, r.endedAt ?? 0, ...r.steps.flatMap((s) => [s.start, s.end ?? 0])));
      });
    });
    await sleep(1_000);
    let during: Promise<unknown> | undefined;
    if (screenshots) {
      await mkdir(screenshots, { recursive: true });
      during = page
        .waitForFunction(() => (globalThis as unknown as { document: PageDocument }).document.querySelector("#install-line")?.textContent?.includes(": running"), undefined, { timeout: 60_000, polling: 20 })
        .then(() => page.screenshot({ path: path.join(screenshots, `observe-during-${n}.png`), fullPage: false }))
        .catch(() => undefined);
    }
    const started = performance.now();
    await applyRelease({ root, release: v2.tarball, confirm: async () => true });
    const applyMs = performance.now() - started;
    await during;
    await page.waitForFunction(() => (globalThis as unknown as { document: PageDocument }).document.querySelector("#install-line")?.textContent?.includes(": installed"), undefined, { timeout: 60_000 });
    await sleep(1_500);
    if (screenshots) await page.screenshot({ path: path.join(screenshots, `observe-after-${n}.png`), fullPage: true });
    const lags = await page.evaluate(() => (globalThis as unknown as { lags: number[] }).lags.slice(1));
    await context.close();
    await server.close();
    const stat = (xs: number[]) => ({ median: median(xs), max: Math.max(...xs) });
    return {
      processes: n,
      runs,
      loadavg: loads,
      closed: { eventLoopMaxMs: stat(closed.map((c) => c.maxMs)), eventLoopP99Ms: stat(closed.map((c) => c.p99Ms)), windows: closed },
      open: { eventLoopMaxMs: stat(open.map((c) => c.maxMs)), eventLoopP99Ms: stat(open.map((c) => c.p99Ms)), windows: open },
      requests,
      applyMs,
      latency: { events: lags.length, medianMs: median(lags), p90Ms: pct(lags, 90), maxMs: Math.max(...lags) },
    };
  } finally {
    await launcher?.stop();
    await rm(work, { recursive: true, force: true });
  }
}
