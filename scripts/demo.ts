/**
 * `npm run demo`: the seed story, live. Builds calculator 1.0.0 and 1.1.0, starts 1.0.0 on a node,
 * prints the plan, applies it while an HTTP load generator runs, shows the new answer from the same OS
 * process with the failed-request count and the latencies, rolls back, and stops. Then the same with
 * the stateful counter: its migration checked by `relup verify` (generated states, then the node's own),
 * and counts that survive the state migration up and back down.
 */
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import pc from "picocolors";
import { applyRelease } from "../src/apply/apply-release.ts";
import { buildRelease } from "../src/relup/build-with-plans.ts";
import { planReleases } from "../src/relup/plan-releases.ts";
import { renderPlanText } from "../src/relup/render/render-text.ts";
import { controlRequest } from "../src/runtime/control-client.ts";
import { prepareRoot, startDetached } from "../src/runtime/start-release.ts";
import { freePort, get } from "../src/net-helpers.ts";
import { renderVerifyReport } from "../src/verify/render-report.ts";
import { verifyExitCode, verifyReleases } from "../src/verify/verify-releases.ts";

const color = Boolean(process.stdout.isTTY) && !("NO_COLOR" in process.env);
const c = pc.createColors(color);
const say = (text = "") => console.log(text);
const step = (text: string) => say(`\n${c.bold(c.cyan(`▸ ${text}`))}`);
const work = await mkdtemp(path.join(os.tmpdir(), "relup-demo-"));
const roots: string[] = [];

async function startNode(fixture: string, version: string, out: string, env: Record<string, unknown>): Promise<{ root: string; pid: number }> {
  const root = path.join(work, `${fixture}-root`);
  await prepareRoot(root, path.join(out, `${fixture}-${version}.tar.gz`));
  await writeFile(path.join(root, "config.json"), JSON.stringify({ [fixture]: env }));
  const ready = await startDetached(root);
  roots.push(root);
  return { root, pid: ready.pid };
}

async function build(fixture: string, versions: string[]): Promise<string> {
  const out = path.join(work, "build");
  for (const version of versions) {
    const started = performance.now();
    const result = await buildRelease({ dir: path.join("fixtures", fixture, version), out });
    say(`${c.green("built")} ${fixture} ${version} in ${Math.round(performance.now() - started)} ms → ${path.basename(result.tarball)}`);
  }
  return out;
}

const nodePid = async (root: string) => ((await controlRequest(root, { cmd: "status" })) as { pid: number }).pid;

try {
  step("calculator: build 1.0.0 and 1.1.0");
  const out = await build("calculator", ["1.0.0", "1.1.0"]);
  const port = await freePort();
  const { root, pid } = await startNode("calculator", "1.0.0", out, { port });
  step(`start 1.0.0 (node pid ${pid}, port ${port})`);
  say(`GET /calculate/2/2 = ${c.bold(await get(port, "/calculate/2/2"))}`);

  step("the plan: relup generate calculator-1.0.0.tar.gz calculator-1.1.0.tar.gz");
  const plan = await planReleases({ from: path.join(out, "calculator-1.0.0.tar.gz"), to: path.join(out, "calculator-1.1.0.tar.gz") });
  say(renderPlanText(plan, { color }));
  const planFile = path.join(work, "relup.json");
  await writeFile(planFile, JSON.stringify(plan.file));

  step("relup apply calculator-1.1.0.tar.gz, under load (autocannon, 10 connections)");
  let loadDone = false;
  const loaded = autocannon({ url: `http://127.0.0.1:${port}/calculate/2/2`, connections: 10, duration: 3 }).then((r) => ((loadDone = true), r));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const started = performance.now();
  await applyRelease({ root, release: path.join(out, "calculator-1.1.0.tar.gz"), planFile, confirm: async () => true });
  const applyMs = performance.now() - started;
  const result = await loaded;
  const failed = result.errors + result.timeouts + result.non2xx;
  say(`applied in ${Math.round(applyMs)} ms, while serving${loadDone ? "" : " (load still running)"}`);
  say(`GET /calculate/2/2 = ${c.bold(await get(port, "/calculate/2/2"))} from node pid ${await nodePid(root)} (was ${pid})`);
  say(`load: ${result.requests.total} requests, ${failed === 0 ? c.green("0 failed") : c.red(`${failed} failed`)}, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`);

  step("relup rollback");
  await controlRequest(root, { cmd: "rollback" });
  say(`GET /calculate/2/2 = ${c.bold(await get(port, "/calculate/2/2"))} from node pid ${await nodePid(root)}`);
  await controlRequest(root, { cmd: "stop" });

  step("counter: the state migration (vsn 1 → 2) verified, then applied, and the way back");
  await build("counter", ["1.0.0", "2.0.0"]);
  const cport = await freePort();
  const counter = await startNode("counter", "1.0.0", out, { port: cport });
  for (let i = 0; i < 3; i++) await get(cport, "/count/apples");
  await get(cport, "/count/pears");
  say(`1.0.0 (pid ${counter.pid}): apples = ${await get(cport, "/peek/apples")}, pears = ${await get(cport, "/peek/pears")}`);
  // The migration is checked first: on generated states against both stateSchemas, then on the node's own.
  const [v1, v2] = [path.join(out, "counter-1.0.0.tar.gz"), path.join(out, "counter-2.0.0.tar.gz")];
  const generated = await verifyReleases({ from: v1, to: v2, seed: 1 });
  const live = await verifyReleases({ from: v1, to: v2, live: { root: counter.root } });
  for (const report of [generated, live]) say(renderVerifyReport(report, { color, command: "relup verify" }).trimEnd());
  if (verifyExitCode(generated, true) !== 0 || verifyExitCode(live, true) !== 0) throw new Error("relup verify did not verify the counter's migration");
  await applyRelease({ root: counter.root, release: path.join(out, "counter-2.0.0.tar.gz"), confirm: async () => true, progress: (e) => e.phase === "code_change" && say(c.dim(`  migrated ${e.done}/${e.total} processes of ${e.module}`)) });
  say(`2.0.0 (pid ${await nodePid(counter.root)}): apples = ${await get(cport, "/peek/apples")}, pears = ${await get(cport, "/peek/pears")}; one more apple: ${await get(cport, "/count/apples")}`);
  await controlRequest(counter.root, { cmd: "rollback" });
  say(`rolled back to 1.0.0 (pid ${await nodePid(counter.root)}): apples = ${await get(cport, "/peek/apples")}, pears = ${await get(cport, "/peek/pears")}`);
  await controlRequest(counter.root, { cmd: "stop" });
  step("done: both nodes stopped");
} finally {
  for (const root of roots) await controlRequest(root, { cmd: "stop" }).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}
