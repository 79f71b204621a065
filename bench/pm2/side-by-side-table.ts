/**
 * The pm2 side-by-side as one Markdown table (bench/pm2-figures.ts measures it): a row per figure, a
 * column for `pm2 reload`, one for `relup apply`, and one for OTP's release_handler, from the OTP
 * measurements already in bench/README.md; an OTP cell is empty where OTP has no equivalent figure.
 */
import type { Window } from "../load-window.ts";
import type { Settled } from "../new-version.ts";
import type { Pm2Worker } from "./pm2-cli.ts";

export interface CountsCheck {
  /** increments made before the action, each on a new connection */
  counted: number;
  /** the distinct answers of `/peek/<key>` (10 polls on new connections) before and after */
  before: number[];
  after: number[];
  survived: boolean;
}

export interface Side {
  steady: Window;
  upgrade: Window;
  newVersion: Settled;
  counts: CountsCheck;
}

export interface SideBySide {
  seconds: number;
  connections: number;
  relup: Side;
  pm2: Side & { version: string; workersBefore: Pm2Worker[]; workersAfter: Pm2Worker[] };
}

/** OTP's release_handler on this machine class, load_module of one module (bench/README.md). */
const OTP_STALL = "~1-2 ms: the longest stall of one client calling in a loop during a load_module upgrade";

const n = (x: number) => Math.round(x).toLocaleString("en");

function counts(c: CountsCheck): string {
  const read = (values: number[]) => values.join(" or ");
  return `${c.survived ? "**kept**" : "**lost**"}: ${c.counted} counted, read ${read(c.before)} before, ${read(c.after)} after`;
}

function settled(s: Settled): string {
  const time = s.settledMs === undefined ? "never within the polling time" : `${n(s.settledMs)} ms`;
  const failures = s.failures.length > 0 ? `: ${s.failures.join("; ")}` : "";
  return `${time} (${n(s.polls)} polls: ${n(s.old)} old answers, ${n(s.failed)} failed${failures})`;
}

function failed(side: Side): string {
  const kinds = Object.entries(side.upgrade.failures ?? {}).map(([kind, count]) => `${kind} ${n(count)}`);
  return `${n(side.upgrade.failed)} (${n(side.steady.failed)})${kinds.length > 0 ? `: ${kinds.join(", ")}` : ""}`;
}

export function sideBySideTable(r: SideBySide): string[] {
  const { pm2, relup } = r;
  const rows: [string, string, string, string][] = [
    [`requests in the ${r.seconds} s window (the steady window before)`, `${n(pm2.upgrade.requests)} (${n(pm2.steady.requests)})`, `${n(relup.upgrade.requests)} (${n(relup.steady.requests)})`, ""],
    ["failed requests (errors, timeouts, non-2xx)", failed(pm2), failed(relup), ""],
    ["p99 latency (steady)", `${pm2.upgrade.p99} ms (${pm2.steady.p99} ms)`, `${relup.upgrade.p99} ms (${relup.steady.p99} ms)`, ""],
    ["max latency (steady)", `${pm2.upgrade.max} ms (${pm2.steady.max} ms)`, `${relup.upgrade.max} ms (${relup.steady.max} ms)`, OTP_STALL],
    ["the action: `pm2 reload` / `relup apply`", `${n(pm2.upgrade.actionMs ?? NaN)} ms`, `${n(relup.upgrade.actionMs ?? NaN)} ms`, ""],
    ["time until every answer comes from the new version", settled(pm2.newVersion), settled(relup.newVersion), ""],
    ["counts held in memory", counts(pm2.counts), counts(relup.counts), ""],
  ];
  return [
    `| calculator 1.0.0 → 1.1.0 under load (autocannon, ${r.connections} connections) | pm2 ${pm2.version} reload, cluster mode, 2 workers | relup apply | OTP release_handler |`,
    "|---|---|---|---|",
    ...rows.map((cells) => `| ${cells.join(" | ")} |`),
  ];
}
