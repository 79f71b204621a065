/**
 * Side by side with what Node users run today: the calculator under the same autocannon load as the HTTP
 * figures (10 connections, 2 or 4 s, the action a third of the way in), upgraded from 1.0.0 to 1.1.0
 * (a) by `pm2 reload` of a plain Node app in pm2 cluster mode with two workers (bench/pm2/app), and
 * (b) by `relup apply` on a real node (bench/pm2/relup-release.ts). For each: the load's requests,
 * failures, p99 and max latency, the action's time, the time until every answer comes from the new
 * version (polling `/calculate/2/2`, 4 before and 8 after, on new connections), and whether counts held
 * in memory survive (set before, read after). Prints one JSON object on stdout.
 *
 * pm2 runs from the devDependency with PM2_HOME in the bench's temp directory; its daemon and workers
 * are killed at the end, also when a step fails or the bench gets SIGINT / SIGTERM.
 */
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { applyRelease } from "../src/apply/apply-release.ts";
import { freePort, getOnNewConnection } from "../src/net-helpers.ts";
import { Launcher } from "../src/runtime/launcher.ts";
import { prepareRoot } from "../src/runtime/start-release.ts";
import { loadWindow, warmUp } from "./load-window.ts";
import { pollNewVersion, type Settled } from "./new-version.ts";
import { Pm2, type Pm2Worker } from "./pm2/pm2-cli.ts";
import { buildSideBySideRelease } from "./pm2/relup-release.ts";
import type { SideBySide, Side } from "./pm2/side-by-side-table.ts";

const quick = process.argv.includes("--quick");
const seconds = quick ? 2 : 4;
const COUNTED = 10;
/** requests answered before the steady window, on both sides */
const WARM_UP = 10_000;
const KEY = "bench";
const OLD = "4";
const NEW = "8";
const appDir = path.join(import.meta.dirname, "pm2");
const work = await mkdtemp(path.join(os.tmpdir(), "relup-bench-pm2-"));
let pm2: Pm2 | undefined;
let launcher: Launcher | undefined;

async function peeks(port: number): Promise<number[]> {
  const seen = new Set<number>();
  for (let i = 0; i < 10; i++) seen.add(Number(await getOnNewConnection(port, `/peek/${KEY}`)));
  return [...seen].sort((a, b) => a - b);
}

async function expectAnswer(port: number, want: string, when: string): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const answer = await getOnNewConnection(port, "/calculate/2/2");
    if (answer !== want) throw new Error(`${when}: /calculate/2/2 answered ${JSON.stringify(answer)}, not ${want}`);
  }
}

/** Steady window, counts set, the upgrade under load with the new-version poll, counts read back. */
async function measure(port: number, countPort: number, upgrade: () => Promise<void>): Promise<Side> {
  await expectAnswer(port, OLD, "before the upgrade");
  await warmUp(port, WARM_UP);
  const steady = await loadWindow({ port, seconds });
  for (let i = 0; i < COUNTED; i++) await getOnNewConnection(countPort, `/count/${KEY}`);
  const before = await peeks(countPort);
  let poll: Promise<Settled> | undefined;
  const window = await loadWindow({ port, seconds }, async () => {
    const since = performance.now();
    const action = upgrade();
    poll = pollNewVersion({ port, path: "/calculate/2/2", isNew: (answer) => answer === NEW, since, action });
    await action;
  });
  const newVersion = await poll!;
  await expectAnswer(port, NEW, "after the upgrade");
  const after = await peeks(countPort);
  return { steady, upgrade: window, newVersion, counts: { counted: COUNTED, before, after, survived: JSON.stringify(after) === JSON.stringify(before) } };
}

async function relupSide(): Promise<Side> {
  const out = path.join(work, "build");
  const v1 = await buildSideBySideRelease(work, out, "1.0.0");
  const v2 = await buildSideBySideRelease(work, out, "1.1.0");
  const root = path.join(work, "root");
  await prepareRoot(root, v1);
  const port = await freePort();
  const countPort = await freePort();
  await writeFile(path.join(root, "config.json"), JSON.stringify({ calculator: { port }, counter: { port: countPort } }));
  const env = { ...process.env };
  delete env.PORT; // both applications' servers would take PORT over their configured port
  launcher = new Launcher({ root, env });
  await launcher.start();
  const side = await measure(port, countPort, () => applyRelease({ root, release: v2, confirm: async () => true }).then(() => undefined));
  await launcher.stop();
  launcher = undefined;
  return side;
}

async function pm2Side(): Promise<SideBySide["pm2"]> {
  // The deployed app: the app's files and version 1.0.0's calculator; the upgrade copies 1.1.0's over it.
  const deployed = path.join(work, "pm2-app");
  await cp(path.join(appDir, "app"), deployed, { recursive: true });
  await cp(path.join(appDir, "1.0.0"), deployed, { recursive: true });
  const port = await freePort();
  // A user's environment, not the bench's: no tsx or other loader in NODE_OPTIONS, no PORT but the app's.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  pm2 = await Pm2.create(path.join(work, "pm2-home"), env);
  const withPort = { PORT: String(port) };
  await pm2.cli(["start", "ecosystem.config.cjs"], deployed, withPort);
  const workersBefore = await pm2.list(deployed);
  checkWorkers(workersBefore, "after pm2 start");
  const side = await measure(port, port, async () => {
    await cp(path.join(appDir, "1.1.0"), deployed, { recursive: true });
    await pm2!.cli(["reload", "ecosystem.config.cjs"], deployed, withPort);
  });
  const workersAfter = await pm2.list(deployed);
  checkWorkers(workersAfter, "after pm2 reload");
  const kept = workersAfter.filter((w) => workersBefore.some((b) => b.pid === w.pid));
  if (kept.length > 0) throw new Error(`pm2 reload left worker pids ${kept.map((w) => w.pid).join(", ")} running: the reload did not restart every worker`);
  const version = (createRequire(import.meta.url)("pm2/package.json") as { version: string }).version;
  await pm2.kill();
  pm2 = undefined;
  return { ...side, version, workersBefore, workersAfter };
}

function checkWorkers(workers: Pm2Worker[], when: string): void {
  const online = workers.filter((w) => w.status === "online" && w.mode === "cluster_mode");
  if (online.length !== 2) throw new Error(`${when}: expected 2 online workers in cluster mode, pm2 lists ${JSON.stringify(workers)}`);
}

async function cleanUp(): Promise<void> {
  if (pm2) {
    const tail = process.exitCode ? await pm2.logTail() : "";
    if (tail) process.stderr.write(`${tail}\n`);
    await pm2.kill();
    pm2 = undefined;
  }
  await launcher?.stop();
  launcher = undefined;
  await rm(work, { recursive: true, force: true });
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  const relup = await relupSide();
  const pm2Result = await pm2Side();
  const result: SideBySide = { seconds, connections: 10, relup, pm2: pm2Result };
  process.stdout.write(JSON.stringify(result) + "\n");
} catch (error) {
  process.exitCode = 1;
  throw error;
} finally {
  await cleanUp();
}
