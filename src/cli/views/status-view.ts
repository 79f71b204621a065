import type { AppStatus } from "../../runtime/application-controller.ts";
import type { StopResult } from "../../runtime/stop-node.ts";

export interface StatusView {
  root: string;
  release: { name: string; version: string };
  pid: number;
  uptimeMs: number;
  applications: { name: string; version: string; status: AppStatus; top: string | null }[];
  modules: { module: string; current: { vsn: string | number; sha256: string; release?: string } | null; old: { vsn: string | number; active: number; release?: string } | null; processes: number }[];
  processCount: number;
  memory: { rss: number; heapUsed: number; heapTotal: number };
}

export interface ProcessView {
  pid: string;
  name: string | null;
  module: string;
  behaviour: string;
  status: string;
  queue: number;
  handled: number;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
/** ` (from 1.1.0)`: the release a module version was read from, when the node says. */
const from = (version: { release?: string }) => (version.release === undefined ? "" : ` (from ${version.release})`);
const vsn = (v: string | number) => (typeof v === "string" && /^[0-9a-f]{64}$/.test(v) ? v.slice(0, 8) : String(v));

export function renderStatus(s: StatusView): string {
  const lines = [
    `${s.release.name} ${s.release.version} running in ${s.root}`,
    `  node pid ${s.pid}, up ${Math.round(s.uptimeMs / 1000)} s, ${s.processCount} processes, heap ${mb(s.memory.heapUsed)}, rss ${mb(s.memory.rss)}`,
    "applications:",
    ...s.applications.map((a) => `  ${a.name} ${a.version}: ${a.status}${a.top ? ` (top ${a.top})` : ""}`),
    "modules:",
    ...s.modules.map((m) => `  ${m.module.padEnd(28)} current ${m.current ? `${vsn(m.current.vsn)}${from(m.current)}` : "-"}${m.old ? `, old ${vsn(m.old.vsn)}${from(m.old)}` : ""}${m.processes ? `, ${m.processes} process${m.processes === 1 ? "" : "es"}` : ""}`),
  ];
  return lines.join("\n") + "\n";
}

export function renderProcesses(list: ProcessView[]): string {
  const header = `${"PID".padEnd(12)}${"NAME".padEnd(16)}${"MODULE".padEnd(30)}${"KIND".padEnd(12)}${"STATUS".padEnd(11)}QUEUE`;
  return [header, ...list.map((p) => `${p.pid.padEnd(12)}${(p.name ?? "-").padEnd(16)}${p.module.padEnd(30)}${p.behaviour.padEnd(12)}${p.status.padEnd(11)}${p.queue}`)].join("\n") + "\n";
}

/** What `relup stop` did; stopping a stopped node is said plainly, and is a success. */
export function renderStop(r: StopResult, root: string): string {
  if (r.kind === "stopped") return `stopped ${r.name} ${r.version} (node pid ${r.pid})\n`;
  if (r.launcherPid !== undefined) return `${r.name} is not running in ${root}; stopped its launcher (pid ${r.launcherPid}), which was restarting it\n`;
  return `${r.name} is not running in ${root}: nothing to stop\n`;
}
