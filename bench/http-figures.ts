/**
 * HTTP under load (autocannon, 10 connections, loopback) on a real calculator node: steady state, during
 * `relup apply` 1.0.0 → 1.1.0, and during a stop-and-start of the node (the restart users do today).
 * Then the longest stall one client calling in a loop sees during a load-module-only upgrade, and the
 * node's heap after many upgrade + downgrade cycles (the node runs with --expose-gc so that heap is
 * measured after a collection), and the same for a change of an npm package (packageCycles). Prints one
 * JSON object on stdout.
 */
import { fork } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { applyRelease } from "../src/apply/apply-release.ts";
import { freePort } from "../src/net-helpers.ts";
import { buildRelease } from "../src/relup/build-with-plans.ts";
import { controlRequest } from "../src/runtime/control-client.ts";
import { Launcher } from "../src/runtime/launcher.ts";
import { prepareRoot } from "../src/runtime/start-release.ts";
import { loadWindow } from "./load-window.ts";

const quick = process.argv.includes("--quick");
const seconds = quick ? 2 : 4;
const work = await mkdtemp(path.join(os.tmpdir(), "relup-bench-http-"));
let launcher: Launcher | undefined;

const load = (port: number, during?: () => Promise<void>) => loadWindow({ port, seconds }, during);

/** The longest request a client in another process sees while `during` runs. */
async function clientWindow(port: number, during: () => Promise<void>): Promise<{ worstMs: number; requests: number }> {
  const client = fork(path.join(import.meta.dirname, "stall-client.mjs"), [`http://127.0.0.1:${port}/calculate/2/2`], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const answer = (want: string) => new Promise<Record<string, number>>((resolve, reject) => {
    client.on("message", (m: Record<string, number>) => want in m && resolve(m));
    client.once("exit", (code) => reject(new Error(`the stall client exited with code ${code}`)));
  });
  await answer("ready");
  const result = answer("worstMs");
  await during();
  client.send("stop");
  const { worstMs, requests } = await result;
  return { worstMs: worstMs!, requests: requests! };
}

/**
 * The npm-dependency fixture on its own node: tiny-pad 1.0.0 → 1.1.0 reloads the modules that use it
 * (a plain module and a server holding a padder), hot; `cycles` times up and back down, then permanent on
 * 1.0.0 so no old code is left: heapUsed after a forced collection before and after.
 */
async function packageCycles(env: NodeJS.ProcessEnv, cycles: number) {
  const out = path.join(work, "build-npm");
  const v1 = await buildRelease({ dir: "fixtures/npm-dependency/1.0.0", out });
  const v2 = await buildRelease({ dir: "fixtures/npm-dependency/1.1.0", out });
  const root = path.join(work, "root-npm");
  await prepareRoot(root, v1.tarball);
  await writeFile(path.join(root, "config.json"), JSON.stringify({ labels: { port: await freePort() } }));
  launcher = new Launcher({ root, env });
  await launcher.start();
  await applyRelease({ root, release: v2.tarball, confirm: async () => true });
  await controlRequest(root, { cmd: "rollback" });
  await controlRequest(root, { cmd: "permanent", version: "1.0.0" });
  const before = (await controlRequest(root, { cmd: "metrics", gc: true })) as { heapUsed: number };
  for (let i = 0; i < cycles; i++) {
    await applyRelease({ root, release: "1.1.0", confirm: async () => true });
    await controlRequest(root, { cmd: "rollback" });
  }
  await controlRequest(root, { cmd: "permanent", version: "1.0.0" });
  const after = (await controlRequest(root, { cmd: "metrics", gc: true })) as { heapUsed: number; gc: boolean };
  await launcher.stop();
  launcher = undefined;
  return { cycles, heapBefore: before.heapUsed, heapAfter: after.heapUsed, growthBytes: after.heapUsed - before.heapUsed, gc: after.gc };
}

try {
  const out = path.join(work, "build");
  const v1 = await buildRelease({ dir: "fixtures/calculator/1.0.0", out });
  const v2 = await buildRelease({ dir: "fixtures/calculator/1.1.0", out });
  const root = path.join(work, "root");
  await prepareRoot(root, v1.tarball);
  const port = await freePort();
  await writeFile(path.join(root, "config.json"), JSON.stringify({ calculator: { port } }));
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --expose-gc`.trim() };
  launcher = new Launcher({ root, env });
  await launcher.start();

  const steady = await load(port);
  const apply = await load(port, () => applyRelease({ root, release: v2.tarball, confirm: async () => true }).then(() => undefined));
  const answer = await (await fetch(`http://127.0.0.1:${port}/calculate/2/2`)).text();
  if (answer.trim() !== "8") throw new Error(`the upgrade did not take: /calculate/2/2 answered ${answer}`);
  await controlRequest(root, { cmd: "rollback" });
  const restart = await load(port, async () => {
    await launcher!.stop();
    launcher = new Launcher({ root, env });
    await launcher.start();
  });

  // One client in its own process, one request at a time: its longest request while nothing happens
  // (the baseline of this machine), then during a load-module-only upgrade. The client is a separate
  // process so that the work `relup apply` does on this side is not counted as the node's stall.
  const idleWindow = await clientWindow(port, () => new Promise((resolve) => setTimeout(resolve, 500)));
  const stallWindow = await clientWindow(port, () => applyRelease({ root, release: v2.tarball, confirm: async () => true }).then(() => undefined));
  const stallMs = stallWindow.worstMs;
  await controlRequest(root, { cmd: "rollback" });
  // The same again at once: the node's release reader thread, started by the upgrade above, is still
  // running (it ends after 60 s without a job), so this window does not include its start.
  const warmWindow = await clientWindow(port, () => applyRelease({ root, release: v2.tarball, confirm: async () => true }).then(() => undefined));
  await controlRequest(root, { cmd: "rollback" });

  // Memory over many upgrade + downgrade cycles (each load purges the version before it).
  const cycles = quick ? 20 : 500;
  const before = (await controlRequest(root, { cmd: "metrics", gc: true })) as { heapUsed: number };
  for (let i = 0; i < cycles; i++) {
    await applyRelease({ root, release: "1.1.0", confirm: async () => true });
    await controlRequest(root, { cmd: "rollback" });
  }
  const after = (await controlRequest(root, { cmd: "metrics", gc: true })) as { heapUsed: number; gc: boolean };
  const memory = { cycles, heapBefore: before.heapUsed, heapAfter: after.heapUsed, growthBytes: after.heapUsed - before.heapUsed, gc: after.gc };
  await launcher.stop();
  launcher = undefined;
  const packages = await packageCycles(env, quick ? 20 : 100);
  process.stdout.write(JSON.stringify({ seconds, steady, apply, restart, loadModuleStallMs: stallMs, loadModuleIdleMs: idleWindow.worstMs, loadModuleWarmStallMs: warmWindow.worstMs, memory, packages }) + "\n");
} finally {
  await launcher?.stop();
  await rm(work, { recursive: true, force: true });
}
