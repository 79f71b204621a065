/**
 * `npm run bench`: every figure in one run, printed as a Markdown table (`--json`: one JSON object with
 * stable keys; `--quick`: small sizes, under a minute). Times are the median and the max of several runs.
 * Runtime figures run in a separate `node --expose-gc` process (bench/runtime-figures.ts).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { generatePlan } from "../src/relup/generate-plan.ts";
import { tsEntryArgs } from "../src/runtime/tsx-entry.ts";
import { sideBySideTable, type SideBySide } from "./pm2/side-by-side-table.ts";
import { syntheticPair } from "./synthetic-release.ts";

interface Figure {
  key: string;
  figure: string;
  value: string;
  raw: Record<string, number>;
  goal?: string;
  otp?: string;
  verdict?: "meets" | "misses";
  /** of a goal with several parts, the parts missed */
  missed?: string;
}

const args = new Set(process.argv.slice(2));
const quick = args.has("--quick");
const runs = quick ? 3 : 7;
const figures: Figure[] = [];
const fmt = (n: number, digits = n < 10 ? 2 : 0) => n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });

function measure(fn: () => void): { median: number; max: number } {
  const times: number[] = [];
  fn(); // warm up: the first run pays for compilation
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, max: times[times.length - 1]! };
}

for (const modules of quick ? [100, 1_000] : [100, 1_000, 10_000]) {
  const { from, to, changed } = syntheticPair(modules, 100);
  const t = measure(() => {
    const result = generatePlan(from, to);
    if (!result.ok) throw new Error(`synthetic release did not generate: ${JSON.stringify(result.issues[0])}`);
  });
  figures.push({
    key: `generate.modules_${modules}`,
    figure: `generate: ${fmt(modules, 0)} modules in 100 apps, ${changed} changed`,
    value: `${fmt(t.median)} ms (max ${fmt(t.max)})`,
    raw: { medianMs: t.median, maxMs: t.max },
    ...(modules === 10_000 ? { goal: "≤ 1,000 ms", verdict: t.median <= 1000 ? "meets" : "misses" } : {}),
    ...(modules === 100 ? { otp: "make_relup, 3 modules: 22.5 ms" } : {}),
  });
}

const runtimeArgs = [...tsEntryArgs("../../bench/runtime-figures.ts"), ...(quick ? ["--quick"] : [])];
const rt = JSON.parse(execFileSync(process.execPath, ["--expose-gc", ...runtimeArgs], { encoding: "utf8", cwd: path.join(import.meta.dirname, "..") }));
const lb = rt.lateBinding;
figures.push(
  {
    key: "late_binding.before_swap",
    figure: "call through a module namespace vs a direct call",
    value: `${fmt(lb.ratio)}x (${fmt(lb.namespaceNs, 2)} vs ${fmt(lb.directNs, 2)} ns)`,
    raw: lb,
    goal: "≤ 1.05x",
    verdict: lb.ratio <= 1.05 ? "meets" : "misses",
  },
  {
    key: "late_binding.after_swap",
    figure: "after a code swap: namespace call vs a plain function slot swapped once",
    value: `${fmt(lb.ratioAfterSwapToSwappedSlot)}x (${fmt(lb.namespaceAfterSwapNs, 2)} vs ${fmt(lb.swappedSlotNs, 2)} ns; ${fmt(lb.ratioAfterSwap, 1)}x an inlined direct call)`,
    raw: lb,
    goal: "≤ 1.05x",
    verdict: lb.ratioAfterSwapToSwappedSlot <= 1.05 ? "meets" : "misses",
  },
  { key: "call.round_trips", figure: "`call` round trips to one server process", value: `${fmt(rt.call.callsPerSecond, 0)} per second`, raw: rt.call },
  {
    key: "memory.load_purge_500",
    figure: "heap growth after 500 load + purge cycles of a module",
    value: `${fmt(rt.memory.growthBytes / 1024, 0)} KB`,
    raw: rt.memory,
    goal: "≤ 2 MB",
    verdict: rt.memory.growthBytes <= 2 * 1024 * 1024 ? "meets" : "misses",
  },
  {
    key: "memory.package_up_down_100",
    figure: "heap after 100 upgrade + downgrade cycles of a module between two releases with two versions of a ~1 MB npm package",
    value: `${fmt(rt.packages.upDown.growthBytes / 1024, 0)} KB (${fmt(rt.packages.upDown.heapBefore / 1048576, 1)} → ${fmt(rt.packages.upDown.heapAfter / 1048576, 1)} MB)`,
    raw: rt.packages.upDown,
    goal: "≤ 2 MB",
    verdict: rt.packages.upDown.growthBytes <= 2 * 1024 * 1024 ? "meets" : "misses",
  },
  {
    key: "memory.package_upgrades_100",
    figure: "heap after 100 upgrades of that module, each from a new release directory with its own copy of the package",
    value: `${fmt(rt.packages.upgrades.growthBytes / 1024, 0)} KB (${fmt(rt.packages.upgrades.heapBefore / 1048576, 1)} → ${fmt(rt.packages.upgrades.heapAfter / 1048576, 1)} MB)`,
    raw: rt.packages.upgrades,
    goal: "≤ 2 MB",
    verdict: rt.packages.upgrades.growthBytes <= 2 * 1024 * 1024 ? "meets" : "misses",
  },
);

const fleet = JSON.parse(execFileSync(process.execPath, [...tsEntryArgs("../../bench/fleet-figures.ts"), ...(quick ? ["--quick"] : [])], { encoding: "utf8", cwd: path.join(import.meta.dirname, "..") }));
const otpPause: Record<number, string> = { 1000: "pause 28 ms, install 36.6 ms, stall 20.7 ms", 10000: "pause 322 ms, install 370 ms, stall 258 ms", 100000: "pause 3,639 ms, install 4,190 ms, stall 2,473 ms" };
type Stat = { median: number; max: number };
type Fleet = { processes: number; runs: number; applyMs: Stat; pauseMs: Stat; bareLoopMs: Stat; pauseOverBareLoop: number; eventLoopMaxMs: Stat; blockMs: Stat; blockGcMs: Stat; blockCpuMs: Stat; blockPreempted: Stat; baselineBlockMs: Stat; gcTotalMs: Stat; gcMaxMs: Stat; clientStallMs: Stat; bootMs: Stat; heapPerProcessBytes: Stat };
for (const [key, f] of Object.entries(fleet) as [string, Fleet][]) {
  const ms = (x: Stat) => `${fmt(x.median, x.median < 10 ? 1 : 0)} ms (max ${fmt(x.max, x.max < 10 ? 1 : 0)})`;
  figures.push({
    key,
    figure: `fleet upgrade: ${fmt(f.processes, 0)} server processes migrated (${f.runs} run${f.runs > 1 ? "s" : ""})`,
    value: `apply ${ms(f.applyMs)}; pause ${ms(f.pauseMs)}, ${fmt(f.pauseOverBareLoop, 1)}x the bare loop (${ms(f.bareLoopMs)}); longest event-loop block ${ms(f.eventLoopMaxMs)}, of which GC ${ms(f.blockGcMs)} (the block by a 1 ms timer: ${ms(f.blockMs)}, the node's CPU time in it ${ms(f.blockCpuMs)}, preempted ${fmt(f.blockPreempted.median, 0)} times; GC pauses during the upgrade ${ms(f.gcTotalMs)} in all, the longest ${ms(f.gcMaxMs)}; the same node's longest block with no upgrade ${ms(f.baselineBlockMs)}); client stall ${ms(f.clientStallMs)}; boot ${fmt(f.bootMs.median / 1000, 1)} s, heap ${fmt(f.heapPerProcessBytes.median, 0)} bytes per process`,
    raw: f as unknown as Record<string, number>,
    ...fleetGoals(f),
    otp: otpPause[f.processes] ?? "",
  } as Figure);
}

/** Issue 17's goals for a fleet size: each one checked, and the verdict names the ones missed. */
function fleetGoals(f: Fleet): Pick<Figure, "goal" | "verdict" | "missed"> {
  const heap: [string, boolean] = ["heap ≤ 1 KB per idle process", f.heapPerProcessBytes.median <= 1024];
  const checks: [string, boolean][] | undefined =
    f.processes === 100_000
      ? [["pause ≤ 60 ms", f.pauseMs.median <= 60], ["pause ≤ 1.5x the bare loop", f.pauseOverBareLoop <= 1.5], ["longest block ≤ 20 ms", f.eventLoopMaxMs.median <= 20], heap]
      : f.processes === 1_000_000
        ? [["pause ≤ 1 s", f.pauseMs.median <= 1000], ["longest block ≤ 50 ms", f.eventLoopMaxMs.median <= 50], ["boot ≤ 10 s", f.bootMs.median <= 10_000], heap]
        : undefined;
  if (!checks) return {};
  const missed = checks.filter(([, ok]) => !ok).map(([goal]) => goal);
  return { goal: checks.map(([goal]) => goal).join("; "), verdict: missed.length === 0 ? "meets" : "misses", ...(missed.length > 0 ? { missed: missed.join("; ") } : {}) };
}

// Linear means the pause per process stays flat as the fleet grows.
const fleets = (Object.values(fleet) as Fleet[]).sort((a, b) => a.processes - b.processes);
if (fleets.length > 1) {
  const perProcessUs = fleets.map((f) => (f.pauseMs.median * 1000) / f.processes);
  const largest = fleets[fleets.length - 1]!;
  const reference = fleets.find((f) => f.processes === 100_000) ?? fleets[fleets.length - 2]!;
  const growth = perProcessUs[fleets.length - 1]! / ((reference.pauseMs.median * 1000) / reference.processes);
  figures.push({
    key: "fleet.linearity",
    figure: "fleet pause per process, by fleet size",
    value: `${fleets.map((f, k) => `${fmt(f.processes, 0)}: ${fmt(perProcessUs[k]!, 2)} µs`).join("; ")} (${fmt(largest.processes, 0)} vs ${fmt(reference.processes, 0)}: ${fmt(growth, 2)}x)`,
    raw: { ...Object.fromEntries(fleets.map((f, k) => [`us_${f.processes}`, perProcessUs[k]!])), growth },
    ...(largest.processes === 1_000_000 ? { goal: "linear to 1M (per-process pause at 1M ≤ 1.25x that at 100k)", verdict: growth <= 1.25 ? "meets" : "misses" } : {}),
  } as Figure);
}

const http = JSON.parse(execFileSync(process.execPath, [...tsEntryArgs("../../bench/http-figures.ts"), ...(quick ? ["--quick"] : [])], { encoding: "utf8", cwd: path.join(import.meta.dirname, "..") }));
const window = (w: { requests: number; failed: number; p99: number; max: number; actionMs?: number }) =>
  `${fmt(w.requests, 0)} requests, ${w.failed} failed, p99 ${w.p99} ms, max ${w.max} ms${w.actionMs !== undefined ? ` (action ${fmt(w.actionMs, 0)} ms)` : ""}`;
figures.push(
  { key: "http.steady", figure: `HTTP, steady state (autocannon, 10 connections, ${http.seconds} s)`, value: window(http.steady), raw: http.steady },
  {
    key: "http.during_apply",
    figure: "HTTP during `relup apply` calculator 1.0.0 → 1.1.0",
    value: window(http.apply),
    raw: http.apply,
    goal: "0 failed, p99 ≤ 2x steady",
    verdict: http.apply.failed === 0 && http.apply.p99 <= 2 * Math.max(1, http.steady.p99) ? "meets" : "misses",
  },
  { key: "http.during_restart", figure: "HTTP during a stop-and-start of the node (today's restart)", value: window(http.restart), raw: http.restart },
  {
    key: "stall.load_module_only",
    figure: "longest stall of one client calling in a loop during a load-module-only upgrade (over HTTP, client in its own process)",
    value: `${fmt(http.loadModuleStallMs)} ms (the same client's longest request with no upgrade: ${fmt(http.loadModuleIdleMs)} ms; the same upgrade again at once, the node's release reader thread already running: ${fmt(http.loadModuleWarmStallMs)} ms)`,
    raw: { maxMs: http.loadModuleStallMs, idleMaxMs: http.loadModuleIdleMs, warmMaxMs: http.loadModuleWarmStallMs },
    goal: "≤ the no-upgrade longest + 1 ms",
    otp: "~1-2 ms",
    verdict: http.loadModuleStallMs <= http.loadModuleIdleMs + 1 ? "meets" : "misses",
  },
  {
    key: "memory.upgrade_downgrade_cycles",
    figure: `node heap growth after ${http.memory.cycles} upgrade + downgrade cycles of the calculator`,
    value: `${fmt(http.memory.growthBytes / 1024, 0)} KB (${fmt(http.memory.heapBefore / 1048576, 1)} → ${fmt(http.memory.heapAfter / 1048576, 1)} MB)`,
    raw: http.memory,
    goal: "≤ 2 MB",
    verdict: http.memory.growthBytes <= 2 * 1024 * 1024 ? "meets" : "misses",
  },
  {
    key: "memory.npm_package_cycles",
    figure: `node heap growth after ${http.packages.cycles} upgrade + downgrade cycles of an npm package (npm-dependency: tiny-pad 1.0.0 ↔ 1.1.0, hot)`,
    value: `${fmt(http.packages.growthBytes / 1024, 0)} KB (${fmt(http.packages.heapBefore / 1048576, 1)} → ${fmt(http.packages.heapAfter / 1048576, 1)} MB)`,
    raw: http.packages,
    goal: "≤ 2 MB",
    verdict: http.packages.growthBytes <= 2 * 1024 * 1024 ? "meets" : "misses",
  },
);

const verify = JSON.parse(execFileSync(process.execPath, [...tsEntryArgs("../../bench/verify-figures.ts"), ...(quick ? ["--quick"] : [])], { encoding: "utf8", cwd: path.join(import.meta.dirname, "..") }));
figures.push(
  {
    key: "verify.counter_1000_states",
    figure: `\`relup verify\` counter 1.0.0 → 2.0.0, 1,000 generated states per property (${verify.runs} run${verify.runs > 1 ? "s" : ""})`,
    value: `${fmt(verify.generated.workerMs.median, 0)} ms in the worker (max ${fmt(verify.generated.workerMs.max, 0)}); ${fmt(verify.generated.wallMs.median, 0)} ms for the whole command (max ${fmt(verify.generated.wallMs.max, 0)})`,
    raw: verify.generated,
  },
  {
    key: "verify.live_10000_entries",
    figure: `\`relup verify --live\`: one counter state of ${fmt(verify.live.entries, 0)} entries (${fmt(verify.live.stateBytes / 1024, 0)} KB serialized)`,
    value: `${fmt(verify.live.workerMs.median, 0)} ms in the worker (max ${fmt(verify.live.workerMs.max, 0)}); ${fmt(verify.live.wallMs.median, 0)} ms for the whole command; longest event-loop block in the node ${fmt(verify.live.nodeEventLoopMaxMs.median, 1)} ms`,
    raw: verify.live,
  },
);

// A rollout across a fleet on etcd (bench/rollout-figures.ts): NODES nodes of PROCESSES workers, without and with --barrier.
const rollout = JSON.parse(execFileSync(process.execPath, [...tsEntryArgs("../../bench/rollout-figures.ts"), ...(quick ? ["--quick"] : [])], { encoding: "utf8", cwd: path.join(import.meta.dirname, "..") }));
const perNode = (x: { median: number; max: number }) => `median ${fmt(x.median)} ms, max ${fmt(x.max)} ms`;
figures.push(
  {
    key: "rollout.plain",
    figure: `\`relup fleet rollout\` across ${rollout.nodes} nodes of ${fmt(rollout.processes, 0)} processes each (canary 1, waves of 50%, no soak)`,
    value: `${fmt(rollout.plain.totalMs / 1000, 1)} s in all; each node's install ${perNode(rollout.plain.installMs)}; each node's pause ${perNode(rollout.plain.pauseMs)}`,
    raw: { totalMs: rollout.plain.totalMs, installMedianMs: rollout.plain.installMs.median, pauseMedianMs: rollout.plain.pauseMs.median, pauseMaxMs: rollout.plain.pauseMs.max },
  },
  {
    key: "rollout.barrier",
    figure: "the same rollout with `--barrier` (each wave prepares, holds, and is released together)",
    value: `${fmt(rollout.barrier.totalMs / 1000, 1)} s in all (${rollout.barrier.addedMs >= 0 ? "+" : ""}${fmt(rollout.barrier.addedMs, 0)} ms); each node held ${perNode(rollout.barrier.holdMs)}; each node's pause ${perNode(rollout.barrier.pauseMs)}`,
    raw: { totalMs: rollout.barrier.totalMs, addedMs: rollout.barrier.addedMs, holdMedianMs: rollout.barrier.holdMs.median, holdMaxMs: rollout.barrier.holdMs.max, pauseMedianMs: rollout.barrier.pauseMs.median },
  },
);

// The same calculator upgrade through `pm2 reload` in cluster mode and through `relup apply` (bench/pm2-figures.ts).
const sideBySide = JSON.parse(execFileSync(process.execPath, [...tsEntryArgs("../../bench/pm2-figures.ts"), ...(quick ? ["--quick"] : [])], { encoding: "utf8", cwd: path.join(import.meta.dirname, "..") })) as SideBySide;

if (args.has("--json")) {
  process.stdout.write(JSON.stringify({ ...Object.fromEntries(figures.map((f) => [f.key, f.raw])), pm2_side_by_side: sideBySide }, null, 2) + "\n");
} else {
  console.log(`relup bench (${quick ? "quick" : "full"}), Node ${process.version}, ${runs} runs per timed figure\n`);
  console.log("| figure | value | goal | OTP reference |");
  console.log("|---|---|---|---|");
  for (const f of figures) console.log(`| ${f.figure} | ${f.value} | ${f.goal ? `${f.goal}${f.verdict === "misses" ? ` — **missed**${f.missed ? `: ${f.missed}` : ""}` : ""}` : ""} | ${f.otp ?? ""} |`);
  console.log(`\nSide by side with pm2 (one run; bench/README.md, "pm2 reload and relup apply"):\n`);
  for (const line of sideBySideTable(sideBySide)) console.log(line);
}
