/**
 * `npm run demo:fleet`: one reviewed plan rolled across a fleet. A real etcd on loopback, three calculator
 * nodes started with `relup start --fleet`, each with its own root and port, all under HTTP load. Then:
 *
 * 1. calculator 1.1.0 is published and rolled out with a canary (`relup fleet rollout`), the fleet table
 *    printed as it advances: every node upgraded hot, same pids, no failed request;
 * 2. a broken 1.2.0 (its calculator answers 500) is rolled out with an HTTP health check: the canary's
 *    soak sees the failures, and the rollout reverts the canary in memory; every node runs 1.1.0 again.
 *
 * Every command is the CLI itself, printed before it runs. etcd comes from Debian's etcd-server (the
 * `predemo:fleet` step installs it as root, or prints the command); RELUP_ETCD names another binary.
 */
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import pc from "picocolors";
import { freePort, get } from "../src/net-helpers.ts";
import { buildRelease } from "../src/relup/build-with-plans.ts";
import { planReleases } from "../src/relup/plan-releases.ts";
import { controlRequest } from "../src/runtime/control-client.ts";
import { tsEntryArgs } from "../src/runtime/tsx-entry.ts";
import { startEtcd, type EtcdServer } from "./lib/etcd-server.ts";

const REPO = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const color = Boolean(process.stdout.isTTY) && !("NO_COLOR" in process.env);
const c = pc.createColors(color);
const say = (text = "") => console.log(text);
const step = (text: string) => say(`\n${c.bold(c.cyan(`▸ ${text}`))}`);
const NODES = ["calc-1", "calc-2", "calc-3"];

/** Run the CLI as a user would (its own process), its output shown indented; resolves with its exit code and standard output. */
function relup(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  say(c.dim(`$ relup ${args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(" ")}`));
  const child = spawn(process.execPath, [...tsEntryArgs("../cli/main.ts"), ...args], { cwd: REPO, env: { ...process.env, ...env, FORCE_COLOR: color ? "1" : "0" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const show = (chunk: Buffer) => process.stdout.write(chunk.toString().replace(/^(?=.)/gm, "  "));
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    show(chunk);
  });
  child.stderr.on("data", show);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

async function must(args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const { code, out } = await relup(args, env);
  if (code !== 0) throw new Error(`relup ${args[0]} ${args[1] ?? ""} exited ${code}`);
  return out;
}

/** calculator 1.2.0: 1.1.0 with a calculator module that throws, and a router that answers 500 for it. */
async function writeBroken(work: string): Promise<string> {
  const dir = path.join(work, "calculator-1.2.0");
  await cp(path.join(REPO, "fixtures", "calculator", "1.1.0"), dir, { recursive: true });
  const config = path.join(dir, "relup.config.json");
  await writeFile(config, (await readFile(config, "utf8")).replaceAll('"1.1.0"', '"1.2.0"'));
  await writeFile(path.join(dir, "apps", "calculator", "calculator.ts"), `/** 1.2.0: a regression. */\nexport function add(_a: number, _b: number): number {\n  throw new Error("add: lost its operands");\n}\n`);
  const router = path.join(dir, "apps", "calculator", "router.ts");
  const text = await readFile(router, "utf8");
  await writeFile(router, text.replace("const result = calculator.add(Number(match[1]), Number(match[2]));", `let result: number;\n  try {\n    result = calculator.add(Number(match[1]), Number(match[2]));\n  } catch (error) {\n    res.writeHead(500, { "content-type": "text/plain" }).end(\`\${(error as Error).message}\\n\`);\n    return;\n  }`));
  return dir;
}

/** autocannon on one node until stopped (4 connections). */
function underLoad(port: number): { stop(): Promise<autocannon.Result> } {
  let settle!: (error: Error | null, result: autocannon.Result) => void;
  const finished = new Promise<autocannon.Result>((resolve, reject) => (settle = (error, result) => (error ? reject(error) : resolve(result))));
  const instance = autocannon({ url: `http://127.0.0.1:${port}/calculate/2/2`, connections: 4, duration: 3600 }, (error, result) => settle(error, result));
  return {
    stop: () => {
      instance.stop();
      return finished;
    },
  };
}

const work = await mkdtemp(path.join(os.tmpdir(), "relup-demo-fleet-"));
let etcd: EtcdServer | undefined;
const roots: string[] = [];
try {
  step("etcd on loopback, and the builds: calculator 1.0.0, 1.1.0 and a broken 1.2.0");
  etcd = await startEtcd();
  say(`etcd ${etcd.endpoint} (pid ${etcd.pid})`);
  const out = path.join(work, "_build");
  const store = `file://${path.join(work, "store")}`;
  for (const dir of [path.join(REPO, "fixtures", "calculator", "1.0.0"), path.join(REPO, "fixtures", "calculator", "1.1.0"), await writeBroken(work)]) {
    const built = await buildRelease({ dir, out });
    say(`built ${path.basename(built.tarball)}`);
  }
  const tarball = (version: string) => path.join(out, `calculator-${version}.tar.gz`);
  const plans: Record<string, string> = {};
  for (const [from, to] of [["1.0.0", "1.1.0"], ["1.1.0", "1.2.0"]] as const) {
    const plan = await planReleases({ from: tarball(from), to: tarball(to) });
    plans[to] = path.join(work, `calculator-${from}-${to}.relup.json`);
    await writeFile(plans[to], JSON.stringify(plan.file, null, 2) + "\n");
  }
  for (const version of ["1.1.0", "1.2.0"]) await must(["fleet", "publish", tarball(version), "--store", store]);

  step("three nodes of group calc, each its own root and port");
  const fleet = ["--fleet", etcd.endpoint, "--group", "calc"];
  const ports: number[] = [];
  const pids: number[] = [];
  for (const id of NODES) {
    const root = path.join(work, id);
    const port = await freePort();
    roots.push(root);
    ports.push(port);
    pids.push(Number((await must(["start", tarball("1.0.0"), "--root", root, "--detach", ...fleet, "--node-id", id, "--fleet-lease-ttl", "5"], { PORT: String(port) })).trim()));
  }
  await must(["fleet", "status", ...fleet]);
  const answers = async () => (await Promise.all(ports.map((port) => get(port, "/calculate/2/2")))).map((a) => a.trim()).join(", ");
  say(`GET /calculate/2/2 on each node: ${c.bold(await answers())}`);

  step("relup fleet rollout calculator@1.1.0: a canary, then the rest, under load on every node");
  const load = ports.map((port) => underLoad(port));
  const rolled = await relup(["fleet", "rollout", "calculator@1.1.0", "--plan", plans["1.1.0"]!, "--store", store, ...fleet, "--canary", "1", "--waves", "100%", "--soak", "3s", "--yes"]);
  const results = await Promise.all(load.map((l) => l.stop()));
  const failed = results.reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0);
  const requests = results.reduce((sum, r) => sum + r.requests.total, 0);
  const samePids = (await Promise.all(roots.map(async (root) => (await controlRequest(root, { cmd: "status" })).pid))).every((pid, i) => pid === pids[i]);
  say(`rollout exit ${rolled.code}; GET /calculate/2/2 on each node: ${c.bold(await answers())}; same node pids: ${samePids ? c.green("yes") : c.red("no")}`);
  say(`load during the rollout: ${requests} requests, ${failed === 0 ? c.green("0 failed") : c.red(`${failed} failed`)}, p99 ${Math.max(...results.map((r) => r.latency.p99))} ms`);
  if (rolled.code !== 0 || failed !== 0 || !samePids) throw new Error("the 1.1.0 rollout did not upgrade every node hot without a failed request");

  step("relup fleet rollout calculator@1.2.0, a regression: the canary's health check fails, the rollout reverts it");
  const bad = await relup(["fleet", "rollout", "calculator@1.2.0", "--plan", plans["1.2.0"]!, "--store", store, ...fleet, "--canary", "1", "--waves", "100%", "--soak", "5s", "--health-path", "/calculate/2/2", "--yes"]);
  say(`rollout exit ${bad.code} (1: reverted); GET /calculate/2/2 on each node: ${c.bold(await answers())}`);
  await must(["fleet", "status", ...fleet]);
  if (bad.code !== 1) throw new Error("the broken 1.2.0 was not reverted");
  step("done: nodes and etcd stopped");
} finally {
  for (const root of roots) await controlRequest(root, { cmd: "stop" }).catch(() => undefined);
  await etcd?.stop();
  await rm(work, { recursive: true, force: true });
}
