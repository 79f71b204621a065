/**
 * The entry point of a node process, started by the launcher: `node-main.ts --root DIR --version V`.
 * Boots release V from ROOT/releases/V, opens the control socket, reports `ready` to the launcher over
 * IPC, and logs one JSON object per line on stdout. SIGTERM or a `stop` request stops the applications
 * in reverse order and ends the process; a fatal error exits non-zero so the launcher restarts it.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { monitorEventLoopDelay } from "node:perf_hooks";
import v8 from "node:v8";
import { LoopWatch } from "./loop-watch.ts";
import { openControlServer, type ControlServer } from "./control-server.ts";
import type { AnyControlResult, MetricsResult } from "./control-protocol.ts";
import http from "node:http";
import { Node } from "./node.ts";
import { inheritHandle, listeningServers, nativeHandle, recordListeners, stopAccepting } from "./listen-registry.ts";
import { settlesWithin } from "./bounded-wait.ts";
import { systemClock } from "./clock.ts";
import { ReleaseHandler } from "./release-handler.ts";
import { assertNever } from "../errors.ts";
import { releaseDirOf, releasesDir } from "./releases-file.ts";
import { sweepStaged } from "./staged-file.ts";
import { readRootConfig } from "./root-config.ts";
import { copyStates, type LiveStatesResult } from "./live-states.ts";
import { bootFailure } from "./boot-failure.ts";
import { DEFAULT_START_TIMEOUT } from "./application-controller.ts";
import { MAX_TIMEOUT_MS } from "../appup/instruction.ts";
import { InstallJournal } from "./install-journal.ts";
import { NodeSampler } from "./node-sampler.ts";
import { HealthMonitor } from "./health-monitor.ts";
import { BarrierGate, DEFAULT_HOLD_TIMEOUT_MS } from "./barrier-gate.ts";
import { processPage, processSummary } from "./process-query.ts";
import { applicationTrees, subtree } from "./supervision-tree.ts";

const { values } = parseArgs({ options: { root: { type: "string" }, version: { type: "string" }, inherit: { type: "string" }, "boot-timeout": { type: "string" } } });
const root = path.resolve(values.root!);
const version = values.version!;
/** The launcher's boot timeout: also how long an application's start may take, and a successor's takeover. */
const bootTimeoutMs = values["boot-timeout"] !== undefined ? Number(values["boot-timeout"]) : DEFAULT_START_TIMEOUT;
/** RELUP_CONTROL_IDLE_MS: how long an idle control connection stays open (default 60 s; 0: no limit). */
const controlIdleMs = z.coerce.number().int().min(0).max(MAX_TIMEOUT_MS).optional().safeParse(process.env.RELUP_CONTROL_IDLE_MS || undefined);

// The launcher's watchdog pings over IPC; the answer comes from this event loop, so a loop that is stuck
// (a synchronous codeChange that never returns) answers nothing and the launcher restarts the node.
process.on("message", (message: { type?: string }) => {
  if (message?.type === "heartbeat") tell({ type: "heartbeat-ack" });
});

/**
 * A message to the launcher, if its channel is open. A send that fails (the channel closing under it) is
 * logged: without a callback Node would raise it as an uncaught error and end the node.
 */
function tell(message: object): void {
  if (!process.send || !process.connected) return;
  process.send(message, (error: Error | null) => {
    if (error) log("launcher unreachable", { message, error: error.message });
  });
}

// Listening sockets: recorded so that restart_new_emulator can hand them over; a successor node first
// receives its predecessor's (--inherit N) and listens on them instead of binding again.
recordListeners();
const inheriting = Number(values.inherit ?? 0);
if (inheriting > 0) {
  await new Promise<void>((resolve) => {
    let received = 0;
    process.on("message", (message: { type?: string; port?: number }, handle?: unknown) => {
      if (message.type !== "listen-handle" || !handle) return;
      inheritHandle(message.port!, handle);
      if (++received === inheriting) resolve();
    });
  });
}

/**
 * After a handover: stop accepting connections (the successor accepts every new one, so once the
 * install returns only the new release answers new connections), answer every request still arriving
 * on an open connection with `Connection: close`, so that keep-alive clients move to the successor
 * between two requests instead of having a connection reset under them, wait for the open connections to
 * finish (at most 3 s), then stop.
 */
async function drainThenStop(): Promise<void> {
  const servers = [...listeningServers().values()];
  for (const server of servers) {
    if (server instanceof http.Server) server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => void (res.shouldKeepAlive = false));
  }
  await settlesWithin(systemClock, Promise.all(servers.map(stopAccepting)), 3_000);
  await stop(0);
}

/** Ask the launcher for a successor node on `target`, handing it this node's listening sockets. */
async function restartNewEmulator(target: string): Promise<void> {
  if (!process.send || !process.connected) throw new Error("restart_new_emulator needs the launcher, and this node's channel to it is closed; start the node with `relup start`");
  const servers = listeningServers();
  // The successor binds the control socket's path; this node keeps only its open connections.
  await control!.pause();
  return new Promise((resolve, reject) => {
    // The launcher answers within its boot timeout (it kills a successor that is not ready by then); the
    // wait ends anyway if it does not (its IPC channel closed, a message could not be sent, or no answer
    // well after that limit). Whatever ends it, the control socket listens again before the step fails.
    let settled = false;
    const cleanUp = () => {
      settled = true;
      process.off("message", onMessage);
      process.off("disconnect", onDisconnect);
      clearTimeout(timer);
    };
    const fail = (error: string) => {
      if (settled) return;
      cleanUp();
      void control!.resume().then(
        () => reject(new Error(`the new node did not take over: ${error}`)),
        (resumeError: Error) => reject(new Error(`the new node did not take over: ${error}; and the control socket could not listen again: ${resumeError.message}`)),
      );
    };
    const onDisconnect = () => fail("the launcher went away");
    const waitMs = Math.min(MAX_TIMEOUT_MS, bootTimeoutMs + 10_000);
    const timer = setTimeout(() => fail(`the launcher did not answer within ${waitMs} ms`), waitMs);
    const onMessage = (message: { type?: string; ok?: boolean; error?: string }) => {
      if (message.type !== "handover" || settled) return;
      if (!message.ok) return fail(message.error ?? "unknown");
      cleanUp();
      log("handed over", { to: target });
      // This node has been replaced: it answers the install (see the control handler), then stops.
      handedOver = true;
      resolve();
    };
    process.on("message", onMessage);
    process.once("disconnect", onDisconnect);
    // A send that fails (the channel closed under it) fails the step: the install rolls back.
    const sent = (error: Error | null) => {
      if (error) fail(`this node could not reach the launcher: ${error.message}`);
    };
    try {
      process.send!({ type: "restart-new-emulator", version: target, ports: [...servers.keys()] }, sent);
      // The native handle, not the server: a process receiving a server would start accepting on it.
      for (const [port, server] of servers) process.send!({ type: "listen-handle", port }, nativeHandle(server) as never, sent);
    } catch (error) {
      fail(`this node could not reach the launcher: ${(error as Error).message}`);
    }
  });
}

function log(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + "\n");
}

let control: ControlServer | undefined;
/** the release handler, once the node booted: its release reader thread ends with the node */
let releaseHandler: ReleaseHandler | undefined;
let stopping = false;
let handedOver = false;

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  tell({ type: "stopping" });
  // A graceful stop that hangs (a terminate callback waiting on a client) must not keep the node alive.
  setTimeout(() => {
    log("stop timed out: exiting", { code });
    process.exit(code);
  }, 10_000).unref();
  try {
    await node.stop();
  } catch (error) {
    log("stop failed", { error: (error as Error).message });
  }
  await control?.close();
  await releaseHandler?.close();
  log("node exit", { code });
  process.exit(code);
}

const config = await readRootConfig(root).catch((error: Error) => {
  log("boot failed", { error: error.message });
  tell({ type: "boot-failed", error: error.message, badInput: true });
  process.exit(1);
});
const node = new Node({
  releaseDir: releaseDirOf(root, version),
  config,
  log,
  onFatal: (reason) => {
    log("fatal", { reason });
    process.exit(1);
  },
});

node.controller.startTimeout = bootTimeoutMs;

process.on("SIGTERM", () => void stop(0));
process.on("SIGINT", () => void stop(0));
process.on("uncaughtException", (error) => {
  log("uncaught exception", { error: error.stack ?? String(error) });
  process.exit(1);
});
process.on("unhandledRejection", (error) => log("unhandled rejection", { error: (error as Error)?.stack ?? String(error) }));

try {
  await node.boot();
  // Records an install staged and never committed: its node was killed during it (see staged-file.ts).
  for (const file of await sweepStaged([releasesDir(root), path.join(root, "run")])) log("removed a record of an unfinished install", { file });
  const handler = new ReleaseHandler(node, root, { restartNewEmulator });
  releaseHandler = handler;
  const health = new HealthMonitor(node.runtime, node.startedAt);
  const gate = new BarrierGate(log);
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const loopWatch = new LoopWatch();
  // What `relup observe` reads: the recent installs step by step, and a second-by-second history.
  const journal = new InstallJournal();
  const sampler = new NodeSampler(node.runtime);
  control = await openControlServer(root, async (request, progress): Promise<AnyControlResult> => {
    switch (request.cmd) {
      case "ping":
        return "pong";
      case "status":
        return { ...node.status(), root, listening: [...listeningServers().keys()].sort((a, b) => a - b) };
      case "processes":
        return node.processes();
      case "stop":
        setImmediate(() => void stop(0));
        return { stopping: true };
      case "releases":
        return handler.releases();
      case "unpack":
        return handler.unpack(request.source);
      case "check":
        return handler.check(request.version, request.plan);
      case "install": {
        gate.refuseWhileHeld("install");
        // An install whose client decides waits at its barrier points; the hold adds one before the point of no return.
        const decides = { decides: request.decideBarriers === true || request.hold !== undefined, ...(request.hold ? { holdTimeoutMs: request.holdTimeoutMs ?? DEFAULT_HOLD_TIMEOUT_MS } : {}) };
        // After a handover this node stops whatever the install ends with: only its successor serves.
        try {
          return await journal.track({ kind: "install", from: node.release.version, to: request.version, plan: request.plan }, progress, (progress) => handler.install(request.version, request.plan, progress, { ...(request.allowRestart !== undefined ? { allowRestart: request.allowRestart } : {}), ...(request.permanent ? { permanent: true } : {}), ...(request.codeChangeTimeout !== undefined ? { codeChangeTimeout: request.codeChangeTimeout } : {}), barriers: gate.forInstall(progress, decides) }));
        } finally {
          if (handedOver) void drainThenStop();
        }
      }
      case "permanent":
        return handler.permanent(request.version);
      case "barrier":
        return gate.decide(request.barrier, request.decision);
      case "rollback":
        gate.refuseWhileHeld("rollback");
        if (request.dryRun) return handler.checkRollback();
        try {
          return await journal.track({ kind: "rollback", from: node.release.version }, progress, (progress) => handler.rollback(progress, request.codeChangeTimeout !== undefined ? { codeChangeTimeout: request.codeChangeTimeout } : {}));
        } finally {
          if (handedOver) void drainThenStop();
        }
      case "remove":
        return handler.remove(request.version, { force: request.force === true });
      case "states":
        return { release: { name: node.release.name, version: node.release.version }, processes: await copyStates(node.runtime, request.modules) } satisfies LiveStatesResult;
      case "metrics": {
        const gc = (globalThis as { gc?: () => void }).gc;
        if (request.gc && gc) gc();
        const result: MetricsResult = { eventLoopMaxMs: loopDelay.max / 1e6, eventLoopP99Ms: loopDelay.percentile(99) / 1e6, heapUsed: process.memoryUsage().heapUsed, heapSizeLimit: v8.getHeapStatistics().heap_size_limit, execArgv: process.execArgv, gc: Boolean(gc), ...loopWatch.read(), control: { connections: control?.stats() ?? [] } };
        if (request.reset) {
          loopDelay.reset();
          loopWatch.reset(request.blocks === true);
        }
        return result;
      }
      case "tree": {
        const options = { ...(request.limit !== undefined ? { limit: request.limit } : {}), ...(request.offset !== undefined ? { offset: request.offset } : {}) };
        return request.pid !== undefined ? { node: subtree(node.runtime, request.pid, options) ?? null } : { applications: applicationTrees(node.runtime, node.controller, options) };
      }
      case "process-summary":
        return processSummary(node.runtime);
      case "process-page": {
        const { id: _id, cmd: _cmd, ...query } = request;
        return processPage(node.runtime, query);
      }
      case "journal":
        return journal.read({ ...(request.after !== undefined ? { after: request.after } : {}), ...(request.wait !== undefined ? { waitMs: request.wait } : {}), ...(request.plans ? { plans: request.plans } : {}) });
      case "samples":
        return sampler.read(request.after);
      case "health":
        return health.read();
      default:
        return assertNever(request);
    }
  }, { idleTimeoutMs: controlIdleMs.success ? controlIdleMs.data : undefined });
  if (!controlIdleMs.success) log("RELUP_CONTROL_IDLE_MS ignored", { value: process.env.RELUP_CONTROL_IDLE_MS, fix: "a whole number of milliseconds, 0 for no limit" });
  tell({ type: "ready", pid: process.pid, version });
  log("ready", { pid: process.pid, version });
} catch (error) {
  log("boot failed", { error: (error as Error).stack ?? String(error) });
  tell({ type: "boot-failed", ...bootFailure(error) });
  process.exit(1);
}
