/**
 * The control socket protocol: newline-delimited JSON, one request per line, one response per request.
 * Every request is validated with zod; a malformed one gets an error response and the node keeps
 * running. No request evaluates code. Besides this socket, the launcher pings the node over its IPC
 * channel (`heartbeat` → `heartbeat-ack`, see launcher.ts) to find a node whose event loop is stuck.
 *
 *   ping        → "pong"
 *   status      → release, node pid, uptime, applications, module versions, processes per module, memory,
 *               the TCP ports the node listens on (listen-registry.ts)
 *   processes   → every process: pid, name, module, status, queue length
 *   stop        → stops the applications in reverse order, then the node and its launcher
 *   releases    → every release of the root with its status (unpacked, current, permanent, old)
 *   unpack      {source}: a release tarball or directory on the node's machine, read safely into the root
 *   check       {version, plan}: the install preflight, changing nothing
 *   install     {version, plan, codeChangeTimeout?, allowRestart?, permanent?, decideBarriers?, hold?,
 *               holdTimeoutMs?}: run the plan (and make the release permanent with it); progress lines ({id, progress})
 *               come before the answer. codeChangeTimeout (ms or "infinity") overrides the plan's for every
 *               module; a plan that restarts the node is refused unless allowRestart
 *   permanent   {version}: make the current release the one the node boots
 *   barrier     {barrier, decision}: go or abort for the barrier point an install holds at (barrier-gate.ts),
 *               from any connection; while one is held, another install or a rollback is refused
 *   rollback    {codeChangeTimeout?, dryRun?}: back to the previous release, running the plan's other section
 *               hot, as install does (progress lines, the processes purges killed, step timings);
 *               dryRun runs only its preflight (as check), changing nothing
 *   remove      {version}: delete an unpacked or old release
 *   states      {modules}: copies (v8.serialize, base64) of the states of the processes running those modules,
 *               for `relup verify --live`; the processes are not touched
 *   metrics     {reset?, gc?, blocks?}: longest event-loop delay, the collector's pauses and heap since the
 *               last reset (gc first if the node runs with --expose-gc), the heap limit and the node's V8
 *               flags, then optionally reset; a reset with `blocks` opens a window that finds the longest
 *               block and how much of it was GC (loop-watch.ts); and, per open control connection, what
 *               the node holds for it (control-server.ts, ConnectionStats)
 *
 * Read-only views for `relup observe` (none changes the node; each stays small at any process count):
 *   tree            {pid?, offset?, limit?}: the supervision tree of every application (supervision-tree.ts),
 *                   each supervisor's children capped at `limit`; with `pid`, that process's subtree from `offset`
 *   process-summary processes per callback module: count, suspended, longest queue, state size (process-query.ts)
 *   process-page    {offset?, limit?, search?, module?, status?, sort?}: one page of processes and how many match
 *   journal         {after?, wait?, plans?}: the recent installs and rollbacks step by step (install-journal.ts);
 *                   with `after` (a seq) it answers once there is something newer or `wait` ms passed
 *   samples         {after?}: one sample a second of event-loop delay, heap and rates (node-sampler.ts)
 *   health          counters since the node started (crashes, supervisor restarts, failed calls) and the
 *                   event-loop delay since the previous `health` read, for a fleet's agent (health-monitor.ts)
 *
 * Long requests (unpack, check, install, rollback) may ask for keepalive lines (`keepalive`: ms): while
 * the node works on the request, it writes `{id, keepalive: true}` that often, from its event loop. The
 * client then limits the silence, not the whole request: an install may take as long as the timeouts the
 * user gave allow ("infinity" included), while a node that stops answering is noticed (its launcher's
 * watchdog kills it and the connection closes, or the client gives up after its silence limit).
 */
import { z } from "zod";
import { MAX_TIMEOUT_MS, Timeout } from "../appup/instruction.ts";
import { RelupFile } from "../relup/instruction.ts";
import { ModuleRef, Version } from "../release/names.ts";
import type { ConnectionStats } from "./control-server.ts";
import { RuntimeIssue } from "./issues/runtime-issue.ts";
import type { LiveStatesResult } from "./live-states.ts";
import { RECORDS_KEPT, type JournalResult } from "./install-journal.ts";
import type { ProcessPage, ProcessSummary } from "./process-query.ts";
import type { Sample } from "./node-sampler.ts";
import type { ApplicationTree, TreeNode } from "./supervision-tree.ts";
import type { GcPauses, LongestBlock } from "./loop-watch.ts";
import type { BarrierGate } from "./barrier-gate.ts";
import type { HealthResult } from "./health-monitor.ts";
import type { Node } from "./node.ts";
import type { ReleaseHandler } from "./release-handler.ts";

export const MAX_REQUEST_BYTES = 1024 * 1024;

const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Id = z.union([z.string().max(200), z.number()]).optional();
/** How often (ms) the node writes a keepalive line while it works on a long request. */
const Keepalive = z.number().int().min(10).max(60_000).optional();

export const ControlRequest = z.discriminatedUnion("cmd", [
  z.object({ id: Id, cmd: z.literal("ping") }).strict(),
  z.object({ id: Id, cmd: z.literal("status") }).strict(),
  z.object({ id: Id, cmd: z.literal("processes") }).strict(),
  z.object({ id: Id, cmd: z.literal("stop") }).strict(),
  z.object({ id: Id, cmd: z.literal("releases") }).strict(),
  z.object({ id: Id, cmd: z.literal("unpack"), source: z.string().min(1).max(4096), keepalive: Keepalive }).strict(),
  z.object({ id: Id, cmd: z.literal("check"), version: Version, plan: RelupFile, keepalive: Keepalive }).strict(),
  z
    .object({
      id: Id,
      cmd: z.literal("install"),
      version: Version,
      plan: RelupFile,
      /** how long each process's codeChange may take in this install, overriding the plan's timeouts */
      codeChangeTimeout: Timeout.optional(),
      /** a plan that restarts the node (restart_new_emulator) is refused without it */
      allowRestart: z.boolean().optional(),
      /** make the release permanent as part of the install: complete, or nothing changed */
      permanent: z.boolean().optional(),
      /** the client decides every barrier point (sync_nodes) with a `barrier` request; without it they pass at once */
      decideBarriers: z.boolean().optional(),
      /** hold before the plan's point_of_no_return too, as the barrier point `point_of_no_return` (decideBarriers implied) */
      hold: z.literal("point_of_no_return").optional(),
      /** how long the hold waits for a decision before the node aborts the install by itself (ms; default 60000) */
      holdTimeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).optional(),
      keepalive: Keepalive,
    })
    .strict(),
  z.object({ id: Id, cmd: z.literal("permanent"), version: Version }).strict(),
  z.object({ id: Id, cmd: z.literal("barrier"), barrier: z.string().min(1).max(200), decision: z.enum(["go", "abort"]) }).strict(),
  z
    .object({
      id: Id,
      cmd: z.literal("rollback"),
      /** how long each process's codeChange may take in this rollback, overriding the plan's timeouts */
      codeChangeTimeout: Timeout.optional(),
      /** only the preflight: what the rollback would run and kill, changing nothing */
      dryRun: z.boolean().optional(),
      keepalive: Keepalive,
    })
    .strict(),
  z.object({ id: Id, cmd: z.literal("remove"), version: Version, force: z.boolean().optional() }).strict(),
  z.object({ id: Id, cmd: z.literal("states"), modules: z.array(ModuleRef).min(1).max(10_000) }).strict(),
  z.object({ id: Id, cmd: z.literal("metrics"), reset: z.boolean().optional(), gc: z.boolean().optional(), blocks: z.boolean().optional() }).strict(),
  z.object({ id: Id, cmd: z.literal("tree"), pid: z.string().min(1).max(100).optional(), offset: Count.optional(), limit: z.number().int().min(1).max(1_000).optional() }).strict(),
  z.object({ id: Id, cmd: z.literal("process-summary") }).strict(),
  z
    .object({
      id: Id,
      cmd: z.literal("process-page"),
      offset: Count.optional(),
      limit: z.number().int().min(1).max(500).optional(),
      search: z.string().max(200).optional(),
      module: z.string().min(1).max(500).optional(),
      status: z.enum(["running", "suspended", "exiting"]).optional(),
      sort: z.enum(["pid", "queue"]).optional(),
    })
    .strict(),
  z.object({ id: Id, cmd: z.literal("journal"), after: Count.optional(), wait: z.number().int().min(0).max(30_000).optional(), plans: z.array(Count).max(RECORDS_KEPT).optional() }).strict(),
  z.object({ id: Id, cmd: z.literal("samples"), after: z.number().min(0).optional() }).strict(),
  z.object({ id: Id, cmd: z.literal("health") }).strict(),
]);
export type ControlRequest = z.infer<typeof ControlRequest>;

/** What the node answers with, per command (the types of what node-main.ts and the release handler return). */
export interface ControlResults {
  ping: "pong";
  status: ReturnType<Node["status"]> & { root: string; listening: number[] };
  processes: ReturnType<Node["processes"]>;
  stop: { stopping: true };
  releases: Awaited<ReturnType<ReleaseHandler["releases"]>>;
  unpack: Awaited<ReturnType<ReleaseHandler["unpack"]>>;
  check: Awaited<ReturnType<ReleaseHandler["check"]>>;
  install: Awaited<ReturnType<ReleaseHandler["install"]>>;
  permanent: Awaited<ReturnType<ReleaseHandler["permanent"]>>;
  barrier: ReturnType<BarrierGate["decide"]>;
  /** a rollback that ran; with `dryRun`, see ControlResult */
  rollback: Awaited<ReturnType<ReleaseHandler["rollback"]>>;
  remove: Awaited<ReturnType<ReleaseHandler["remove"]>>;
  states: LiveStatesResult;
  metrics: MetricsResult;
  tree: { applications: ApplicationTree[] } | { node: TreeNode | null };
  "process-summary": ProcessSummary;
  "process-page": ProcessPage;
  journal: JournalResult;
  samples: { intervalMs: number; samples: Sample[] };
  health: HealthResult;
}

/** The commands that only read: all `relup observe` may send (none changes the node). */
export const READ_ONLY_COMMANDS = ["ping", "status", "processes", "releases", "tree", "process-summary", "process-page", "journal", "samples", "health"] as const satisfies readonly ControlRequest["cmd"][];
export type ReadOnlyRequest = Extract<ControlRequest, { cmd: (typeof READ_ONLY_COMMANDS)[number] }>;

/** The answer to `request`: a rollback with `dryRun` answers with its preflight. */
export type ControlResult<R extends ControlRequest> = R extends { cmd: "rollback"; dryRun: true } ? Awaited<ReturnType<ReleaseHandler["checkRollback"]>> : R extends { cmd: "rollback"; dryRun?: false | undefined } ? ControlResults["rollback"] : ControlResults[R["cmd"]];

/** Any answer of the node (what a control handler resolves with). */
export type AnyControlResult = ControlResults[keyof ControlResults] | Awaited<ReturnType<ReleaseHandler["checkRollback"]>>;

export interface MetricsResult {
  /** the longest event-loop delay (ms) since the last reset, and its 99th percentile */
  eventLoopMaxMs: number;
  eventLoopP99Ms: number;
  heapUsed: number;
  /** V8's heap limit (bytes): --max-old-space-size and the young generation */
  heapSizeLimit: number;
  /** the flags the node runs with (process.execArgv: `relup start --node-option`, tsx's own in a repository) */
  execArgv: string[];
  /** whether the node runs with --expose-gc (a `gc` request collects first) */
  gc: boolean;
  /** the collector's pauses since the last reset */
  gcPauses: GcPauses;
  /** the longest block since a reset that asked for `blocks`, and its GC share */
  longestBlock?: LongestBlock;
  control: { connections: ConnectionStats[] };
}

const AnswerId = z.union([z.string(), z.number()]).optional();

/**
 * An answer line. A refusal or failure carries a runtime issue (src/runtime/issues/runtime-issue.ts) as
 * data: the client formats it, and the CLI entry alone chooses the exit code. No exit code travels here.
 */
export const ControlAnswer = z.discriminatedUnion("ok", [z.object({ id: AnswerId, ok: z.literal(true), result: z.unknown().optional() }), z.object({ id: AnswerId, ok: z.literal(false), issue: RuntimeIssue })]);

export type ControlResponse = { id?: string | number; ok: true; result: unknown } | { id?: string | number; ok: false; issue: RuntimeIssue };

/** A line sent before the answer of a long request. */
export interface ControlProgress {
  id?: string | number;
  progress: unknown;
}

/** A line the node writes while it works on a long request that asked for them (see `keepalive`). */
export interface ControlKeepalive {
  id?: string | number;
  keepalive: true;
}

export const CONTROL_SOCKET = "control.sock";
