/**
 * `relup verify` figures: the time to verify the counter fixture's migration on 1,000 generated states
 * per property (the CLI in a child process, worker thread included), and a live dry run on a real node
 * whose counter holds 10,000 keys (the copy out of the node and the migration of one 10,000-entry state),
 * with the longest event-loop block the copy caused in the node. Prints one JSON object on stdout.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../src/net-helpers.ts";
import { buildRelease } from "../src/relup/build-with-plans.ts";
import { controlRequest } from "../src/runtime/control-client.ts";
import { Launcher } from "../src/runtime/launcher.ts";
import { prepareRoot } from "../src/runtime/start-release.ts";
import type { VerifyReport } from "../src/verify/report.ts";

const quick = process.argv.includes("--quick");
const runs = quick ? 1 : 3;
const KEYS = 10_000;
const BIN = path.join(import.meta.dirname, "..", "bin", "relup.js");
const work = await mkdtemp(path.join(os.tmpdir(), "relup-bench-verify-"));
let launcher: Launcher | undefined;

interface Stat {
  median: number;
  max: number;
}
const stat = (xs: number[]): Stat => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};

/** `relup verify ...` in a child process: its wall time and its report. */
async function verify(args: string[]): Promise<{ wallMs: number; report: VerifyReport }> {
  const started = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, "verify", ...args, "--format", "json"], { maxBuffer: 64 * 1024 * 1024 });
  const wallMs = performance.now() - started;
  const report = JSON.parse(stdout) as VerifyReport;
  if (report.modules.length !== 1 || report.modules[0]!.status !== "verified") throw new Error(`verify did not verify the counter: ${stdout.slice(0, 500)}`);
  return { wallMs, report };
}

try {
  const out = path.join(work, "build");
  const v1 = await buildRelease({ dir: "fixtures/counter/1.0.0", out });
  const v2 = await buildRelease({ dir: "fixtures/counter/2.0.0", out });

  const generated = { wallMs: [] as number[], workerMs: [] as number[] };
  for (let k = 0; k < runs; k++) {
    const { wallMs, report } = await verify([v1.tarball, v2.tarball, "--runs", "1000", "--seed", String(k + 1)]);
    if (report.modules[0]!.runs.upAndBack !== 1000 || report.modules[0]!.runs.down !== 1000) throw new Error("verify did not run 1,000 states per property");
    generated.wallMs.push(wallMs);
    generated.workerMs.push(report.modules[0]!.ms);
  }

  const root = path.join(work, "root");
  await prepareRoot(root, v1.tarball);
  const port = await freePort();
  await writeFile(path.join(root, "config.json"), JSON.stringify({ counter: { port } }));
  launcher = new Launcher({ root });
  await launcher.start();
  for (let k = 0; k < KEYS; k += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => fetch(`http://127.0.0.1:${port}/count/key${k + j}`).then((r) => r.text())));
  }
  const live = { wallMs: [] as number[], workerMs: [] as number[], nodeBlockMs: [] as number[], stateBytes: 0 };
  for (let k = 0; k < runs; k++) {
    await controlRequest(root, { cmd: "metrics", reset: true });
    const { wallMs, report } = await verify([v2.tarball, "--live", "--root", root]);
    const metrics = (await controlRequest(root, { cmd: "metrics" })) as { eventLoopMaxMs: number };
    if (report.modules[0]!.runs.live !== 1) throw new Error("verify --live did not check the counter's state");
    live.wallMs.push(wallMs);
    live.workerMs.push(report.modules[0]!.ms);
    live.nodeBlockMs.push(metrics.eventLoopMaxMs);
  }
  const copy = (await controlRequest(root, { cmd: "states", modules: ["counter/counter"] })) as { processes: { state: string }[] };
  live.stateBytes = Buffer.from(copy.processes[0]!.state, "base64").length;
  const peek = await (await fetch(`http://127.0.0.1:${port}/peek/key9999`)).text();
  if (peek.trim() !== "1") throw new Error(`the node's counter changed: /peek/key9999 answered ${peek}`);

  process.stdout.write(
    JSON.stringify({
      runs,
      generated: { states: 1000, wallMs: stat(generated.wallMs), workerMs: stat(generated.workerMs) },
      live: { entries: KEYS, stateBytes: live.stateBytes, wallMs: stat(live.wallMs), workerMs: stat(live.workerMs), nodeEventLoopMaxMs: stat(live.nodeBlockMs) },
    }) + "\n",
  );
} finally {
  await launcher?.stop();
  await rm(work, { recursive: true, force: true });
}
