/**
 * HTTP under load (autocannon, 10 connections, loopback) on a real calculator node: steady state, during
 * `relup apply` 1.0.0 → 1.1.0, and during a stop-and-start of the node (the restart users do today).
 * Prints one JSON object on stdout.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { applyRelease } from "../src/apply/apply-release.ts";
import { freePort } from "../src/net-helpers.ts";
import { buildRelease } from "../src/relup/build-with-plans.ts";
import { controlRequest } from "../src/runtime/control-client.ts";
import { Launcher } from "../src/runtime/launcher.ts";
import { prepareRoot } from "../src/runtime/start-release.ts";

const quick = process.argv.includes("--quick");
const seconds = quick ? 2 : 4;
const work = await mkdtemp(path.join(os.tmpdir(), "relup-bench-http-"));
let launcher: Launcher | undefined;

interface Window {
  requests: number;
  failed: number;
  p99: number;
  max: number;
  actionMs?: number;
}

async function load(port: number, during?: () => Promise<void>): Promise<Window> {
  const running = autocannon({ url: `http://127.0.0.1:${port}/calculate/2/2`, connections: 10, duration: seconds });
  let actionMs: number | undefined;
  if (during) {
    await new Promise((resolve) => setTimeout(resolve, (seconds * 1000) / 3));
    const started = performance.now();
    await during();
    actionMs = performance.now() - started;
  }
  const r = await running;
  return { requests: r.requests.total, failed: r.errors + r.timeouts + r.non2xx, p99: r.latency.p99, max: r.latency.max, ...(actionMs !== undefined ? { actionMs } : {}) };
}

try {
  const out = path.join(work, "build");
  const v1 = await buildRelease({ dir: "fixtures/calculator/1.0.0", out });
  const v2 = await buildRelease({ dir: "fixtures/calculator/1.1.0", out });
  const root = path.join(work, "root");
  await prepareRoot(root, v1.tarball);
  const port = await freePort();
  await writeFile(path.join(root, "config.json"), JSON.stringify({ calculator: { port } }));
  launcher = new Launcher({ root });
  await launcher.start();

  const steady = await load(port);
  const apply = await load(port, () => applyRelease({ root, release: v2.tarball, confirm: async () => true }).then(() => undefined));
  const answer = await (await fetch(`http://127.0.0.1:${port}/calculate/2/2`)).text();
  if (answer.trim() !== "8") throw new Error(`the upgrade did not take: /calculate/2/2 answered ${answer}`);
  await controlRequest(root, { cmd: "rollback" });
  const restart = await load(port, async () => {
    await launcher!.stop();
    launcher = new Launcher({ root });
    await launcher.start();
  });
  process.stdout.write(JSON.stringify({ seconds, steady, apply, restart }) + "\n");
} finally {
  await launcher?.stop();
  await rm(work, { recursive: true, force: true });
}
