/**
 * The launcher: the node's heart (OTP's heart). It starts a node process on the root's permanent
 * release, writes its log lines to ROOT/log/node.jsonl, and restarts it when it dies, with an
 * exponential backoff that resets once a node has run for a while. A node that is asked to stop tells
 * the launcher first (`stopping`), and then the launcher ends too.
 *
 * The watchdog: a node whose event loop is stuck (a synchronous loop, such as a codeChange that never
 * returns) answers nothing, and nothing inside it can notice. Once a node is ready, the launcher sends it
 * `heartbeat` over the IPC channel every heartbeatIntervalMs; the node answers `heartbeat-ack` from its
 * event loop. A node that has answered nothing for heartbeatTimeoutMs is logged (`node unresponsive`) and
 * killed with SIGKILL (a blocked loop runs no SIGTERM handler); the launcher then restarts it on the
 * permanent release as after any death, so an install it was running is undone with its in-memory state.
 *
 * The boot timeout: a node that is not ready within bootTimeoutMs of its spawn (default 60 s) is killed
 * with SIGKILL and the launcher logs `node boot timed out`. The watchdog pings only ready nodes, and an
 * application start that never settles, or loops, would otherwise hold the boot forever. What follows is
 * what follows any failed boot: the first start fails (`relup start` exits 1 saying so), a restarted node
 * is restarted again with the backoff, and a restart_new_emulator successor is dropped: the takeover is
 * aborted and the old node keeps serving. The node is told the limit (`--boot-timeout`): it is also how
 * long an application's start may take during an install. Every node it starts gets the same V8 flags
 * (`nodeOptions`, `relup start --node-option`).
 *
 * A node that dies while it hands over (before its successor is ready) takes its install with it: the
 * successor, on a release nothing recorded, is killed and the node restarts on the permanent release. The
 * launcher tracks one node throughout, and a message to a node whose IPC channel has closed is logged
 * (`node unreachable`), never thrown.
 *
 * Events: ready {pid, version}, exit {code, signal}, restart {delayMs}, unresponsive {pid, silentMs},
 * boot-timeout {pid, limitMs}, replaced-exit {pid, code, signal} (a node that handed over has ended), stopped.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { APPEND_NOFOLLOW, assertRootTrusted, openNoFollow } from "./root-trust.ts";
import readline from "node:readline";
import { bootVersion } from "./read-bootable.ts";
import { controlSocketPath } from "./control-client.ts";
import { entryArgs } from "./entry-args.ts";
import { checkNodeOptions } from "./node-options.ts";
import { BootError, type BootFailure, type ListenFailure } from "./boot-failure.ts";
import { LogFile } from "./log-file.ts";
import { ExitCode, UserError } from "../errors.ts";

export interface LauncherOptions {
  root: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** a node that ran this long resets the backoff */
  stableMs?: number;
  /** how often a ready node is pinged over IPC (default 1000 ms, or a fifth of a shorter timeout) */
  heartbeatIntervalMs?: number;
  /** a node that answers no ping for this long is killed and restarted (default 30000 ms) */
  heartbeatTimeoutMs?: number;
  /** a node that is not ready this long after its spawn is killed (default 60000 ms) */
  bootTimeoutMs?: number;
  /** V8/Node flags for every node it starts, checked against the allow-list (node-options.ts) */
  nodeOptions?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/** A listening socket's native handle (`server._handle`), as passed between processes. */
type RawHandle = { close(): void };

export type Ready = { pid: number; version: string };

/** A restart_new_emulator handover under way. */
interface Handover {
  old: ChildProcess;
  next?: ChildProcess;
  /** the old node died first: the successor was killed */
  aborted: boolean;
}

export const DEFAULT_HEARTBEAT_INTERVAL = 1_000;
export const DEFAULT_HEARTBEAT_TIMEOUT = 30_000;
export const DEFAULT_BOOT_TIMEOUT = 60_000;

export class Launcher extends EventEmitter {
  readonly root: string;
  #child: ChildProcess | undefined;
  /** nodes whose output is still being read: their last lines are logged before the logs close */
  #reading = new Set<Promise<unknown>>();
  #stopping = false;
  #finished = false;
  failure: string | undefined; // why the launcher gave up restarting its node (#cannotBoot)
  #failures = 0;
  #startedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  /** when each ready node last answered a heartbeat (performance.now()); absent until it is ready */
  #answered = new WeakMap<ChildProcess, number>();
  /** nodes killed because they were not ready in time */
  #bootTimedOut = new WeakSet<ChildProcess>();
  /** nodes that handed over to a successor and are draining */
  #replaced = new WeakSet<ChildProcess>();
  /** the handover under way: the node that asked for it and its successor, until the successor is ready or gone */
  #handingOver: Handover | undefined;
  /** never a stream that can throw: a full disk costs log lines, never the launcher (log-file.ts) */
  #nodeLog: LogFile | undefined;
  #launcherLog: LogFile | undefined;
  #options: Required<Omit<LauncherOptions, "env" | "root">> & { env: NodeJS.ProcessEnv | undefined };

  constructor(options: LauncherOptions) {
    super();
    this.root = path.resolve(options.root);
    this.#options = {
      minBackoffMs: options.minBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 5_000,
      stableMs: options.stableMs ?? 10_000,
      // Several pings per timeout, so that a short timeout is not checked too late.
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? Math.max(10, Math.min(DEFAULT_HEARTBEAT_INTERVAL, Math.floor((options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT) / 5))),
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT,
      bootTimeoutMs: options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT,
      nodeOptions: checkNodeOptions(options.nodeOptions ?? []),
      env: options.env,
    };
  }

  /** Start the first node; resolves when it is ready, rejects if it fails to boot (no retry then). */
  async start(): Promise<Ready> {
    // A root another user can write, or a planted link, is refused before anything is written there.
    assertRootTrusted(this.root);
    const logDir = path.join(this.root, "log");
    await mkdir(logDir, { recursive: true, mode: 0o755 });
    const nodeLog = openNoFollow(path.join(logDir, "node.jsonl"), APPEND_NOFOLLOW);
    const launcherLog = openNoFollow(path.join(logDir, "launcher.jsonl"), APPEND_NOFOLLOW);
    this.#nodeLog = new LogFile(nodeLog);
    this.#launcherLog = new LogFile(launcherLog);
    return new Promise((resolve, reject) => {
      const onReady = (ready: Ready) => {
        this.off("boot-failed", onFailed);
        resolve(ready);
      };
      const onFailed = (failure: BootFailure) => {
        this.off("ready", onReady);
        this.#stopping = true;
        // The launcher's own log says why, whoever started it (a detached launcher has no terminal).
        this.#event("node failed to boot", { error: failure.error, ...failure.listen });
        // Once the line is in the file: whoever is told of the failure can read why there.
        void this.#launcherLog!.flushed().then(() => reject(new BootError(failure, this.root)));
      };
      this.once("ready", onReady);
      this.once("boot-failed", onFailed);
      this.#heartbeat = setInterval(() => this.#checkHeartbeat(), this.#options.heartbeatIntervalMs).unref();
      void this.#spawn();
    });
  }

  /** The running node's OS pid, if any. */
  get nodePid(): number | undefined {
    return this.#child?.pid;
  }

  /** Stop the node gracefully (SIGTERM: applications stop in reverse order) and do not restart it. */
  stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.#finish();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.once("stopped", resolve);
      child.kill("SIGTERM");
    });
  }

  /**
   * Start a node: on the permanent release, or (a restart_new_emulator handover) on `version` with the
   * listening sockets of the node it replaces.
   */
  async #spawn(takeover?: { version: string; handles: { port: number; handle: RawHandle }[] }): Promise<ChildProcess | undefined> {
    const version = takeover ? takeover.version : await bootVersion(this.root).catch((error: Error) => this.#cannotBoot(error));
    if (version === undefined) return undefined;
    const inherit = takeover ? ["--inherit", String(takeover.handles.length)] : [];
    const limitMs = this.#options.bootTimeoutMs;
    const child = spawn(process.execPath, [...this.#options.nodeOptions, ...entryArgs("node-main"), "--root", this.root, "--version", version, "--boot-timeout", String(limitMs), ...inherit], {
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: this.#options.env ?? process.env,
    });
    // Once sent on, this process's copy of each handle is closed.
    for (const { port, handle } of takeover?.handles ?? []) child.send({ type: "listen-handle", port }, handle as never, () => handle.close());
    if (!takeover) this.#child = child;
    // A failed send to a node whose channel has closed is reported here, not thrown at the launcher.
    child.on("error", (error) => this.#event("node process error", { pid: child.pid, error: error.message }));
    this.#startedAt = Date.now();
    this.#event("node spawned", { pid: child.pid, version });
    let bootError: BootFailure | undefined;
    const bootTimer = setTimeout(() => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      this.#bootTimedOut.add(child);
      bootError = { error: `the node was not ready within ${limitMs} ms (an application's start did not return or never settled) and was killed. Fix: see ${path.join(this.root, "log", "node.jsonl")} for the application it was starting; if its start is only slow, give it longer with \`relup start --boot-timeout <ms>\`` };
      const action = takeover ? "killed; the takeover is aborted, the old node keeps serving" : this.listenerCount("boot-failed") > 0 ? "killed; the start fails" : "killed; restarting on the permanent release";
      this.#event("node boot timed out", { pid: child.pid, version, limitMs, action });
      this.emit("boot-timeout", { pid: child.pid!, limitMs });
      child.kill("SIGKILL");
    }, limitMs);
    // The last lines the node wrote to stderr: the reason when it dies before it can say why.
    const lastErrors: string[] = [];
    const pipe = (stream: NodeJS.ReadableStream, name: string) =>
      readline.createInterface({ input: stream }).on("line", (line) => {
        if (name === "stderr" && line.trim() !== "") {
          lastErrors.push(line);
          if (lastErrors.length > 4) lastErrors.shift();
        }
        const isJson = line.startsWith("{") && line.endsWith("}");
        this.#nodeLog?.write(isJson ? line : JSON.stringify({ time: new Date().toISOString(), stream: name, line }));
      });
    pipe(child.stdout!, "stdout");
    pipe(child.stderr!, "stderr");
    const reading: Promise<unknown> = new Promise((resolve) => child.once("close", resolve)).then(() => this.#reading.delete(reading));
    this.#reading.add(reading);
    const handles: { port: number; handle: RawHandle }[] = [];
    let expected = -1;
    let takeoverVersion = "";
    child.on("message", (message: { type?: string; pid?: number; version?: string; error?: string; listen?: ListenFailure; badInput?: boolean; damaged?: boolean; port?: number; ports?: number[] }, handle?: unknown) => {
      if (message.type === "heartbeat-ack") this.#answered.set(child, performance.now());
      if (message.type === "ready") {
        clearTimeout(bootTimer);
        this.#answered.set(child, performance.now());
        if (!takeover) this.emit("ready", { pid: message.pid!, version: message.version! });
        else this.emit("takeover-ready", child, { pid: message.pid!, version: message.version! });
      }
      if (message.type === "stopping" && this.#child === child) this.#stopping = true;
      if (message.type === "boot-failed") bootError = { error: message.error ?? "unknown", ...(message.listen ? { listen: message.listen } : {}), ...(message.badInput ? { badInput: true } : {}), ...(message.damaged ? { damaged: true } : {}) };
      // restart_new_emulator: this node hands over its listening sockets and asks for its successor.
      if (message.type === "restart-new-emulator") {
        expected = message.ports!.length;
        takeoverVersion = message.version!;
      }
      // Raw listening handles: this process only passes them on, it never accepts on them.
      if (message.type === "listen-handle" && handle) handles.push({ port: message.port!, handle: handle as RawHandle });
      if (expected >= 0 && handles.length === expected) {
        expected = -1;
        void this.#handover(child, takeoverVersion, handles.splice(0));
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(bootTimer);
      const handover = this.#handingOver;
      if (handover?.old === child && handover.next && !handover.aborted) return this.#oldDiedDuringHandover(handover, handover.next, code, signal);
      if (this.#child !== child) {
        // A node that handed over (its exit is logged: it must end), or a successor that never took over.
        if (this.#replaced.delete(child)) {
          this.#event("replaced node exited", { pid: child.pid, code, signal });
          this.emit("replaced-exit", { pid: child.pid!, code, signal });
        }
        return;
      }
      this.#child = undefined;
      this.#event("node exited", { pid: child.pid, code, signal });
      this.emit("exit", { code, signal });
      // While start() waits, a node that ends before it is ready fails the start (no retry): one that
      // cannot run at all (bad NODE_OPTIONS, a missing file) would otherwise be restarted forever.
      if (this.listenerCount("boot-failed") > 0) {
        const stopped = this.#stopping;
        // Once its output is closed, so that its last stderr lines have been read.
        child.once("close", () => {
          const said = lastErrors.length > 0 ? `: ${lastErrors.join(" | ")}` : "";
          const why = stopped ? "the node was stopped before it was ready" : `the node exited (${signal ? `signal ${signal}` : `code ${code}`}) before it was ready${said}; see ${path.join(this.root, "log", "node.jsonl")}`;
          this.emit("boot-failed", bootError ?? ({ error: why } satisfies BootFailure));
          this.#finish();
        });
        return;
      }
      if (this.#stopping) return this.#finish();
      // A release that no longer verifies boots on no retry: as an unbootable root, said once, then the end.
      if (bootError?.damaged) return void this.#cannotBoot(new UserError(`the permanent release does not verify, so no node can boot it: ${bootError.error.split("\n")[0]!.replace(/\s*Fix:.*$/, "")}. Fix: restore ${this.root}/releases from a backup (or unpack its tarball into a fresh root), or mark another release permanent in RELEASES; then \`relup start --root ${this.root}\``, ExitCode.badInput));
      // A restarted node that cannot boot (its port taken meanwhile): the log says why before each retry.
      if (bootError) this.#event("node failed to boot", { error: bootError.error, ...bootError.listen });
      if (Date.now() - this.#startedAt >= this.#options.stableMs) this.#failures = 0;
      const delayMs = Math.min(this.#options.maxBackoffMs, this.#options.minBackoffMs * 2 ** this.#failures);
      this.#failures++;
      this.#event("restarting node", { delayMs });
      this.emit("restart", { delayMs });
      this.#timer = setTimeout(() => void this.#spawn(), delayMs);
    });
    return child;
  }

  /** Start the successor on `version` with the sockets; it replaces `old` only once it is ready. */
  async #handover(old: ChildProcess, version: string, handles: { port: number; handle: RawHandle }[]): Promise<void> {
    this.#event("restart_new_emulator", { version, ports: handles.map((h) => h.port) });
    const handover: Handover = { old, aborted: false };
    this.#handingOver = handover;
    const next = await this.#spawn({ version, handles });
    handover.next = next;
    if (!next) {
      this.#handingOver = undefined;
      this.#tell(old, { type: "handover", ok: false, error: "could not start the new node" });
      return;
    }
    // The old node died before its successor was known (its exit scheduled a restart): the successor goes.
    if (old.exitCode !== null || old.signalCode !== null) this.#oldDiedDuringHandover(handover, next, old.exitCode, old.signalCode, { exitReported: true });
    const outcome = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
      const onReady = (child: ChildProcess) => child === next && finish({ ok: true });
      const onExit = (code: number | null) =>
        finish({ ok: false, error: this.#bootTimedOut.has(next) ? `the new node was not ready within ${this.#options.bootTimeoutMs} ms and was killed; see log/node.jsonl. Fix: make its applications start sooner, or give it longer with \`relup start --boot-timeout <ms>\`` : `the new node exited (code ${code}) before it was ready; see log/node.jsonl` });
      const finish = (result: { ok: boolean; error?: string }) => {
        this.off("takeover-ready", onReady);
        next.off("exit", onExit);
        resolve(result);
      };
      this.on("takeover-ready", onReady);
      next.once("exit", onExit);
    });
    if (this.#handingOver === handover) this.#handingOver = undefined;
    // The old node died meanwhile: its exit has made the successor the tracked node and killed it.
    if (handover.aborted) return;
    if (outcome.ok) {
      this.#replaced.add(old);
      this.#child = next;
      this.#answered.set(next, performance.now());
      this.#startedAt = Date.now();
      this.emit("ready", { pid: next.pid!, version });
    }
    this.#tell(old, { type: "handover", ...outcome });
  }

  /**
   * The node that asked for a successor died before the successor was ready. The install it was running
   * died with it (it never committed), so the successor, which runs a release nothing recorded, is not
   * kept: it becomes the one tracked node, and is killed, and its exit restarts the node on the permanent
   * release as after any death (or ends the launcher if it is stopping). One node is tracked throughout.
   */
  #oldDiedDuringHandover(handover: Handover, next: ChildProcess, code: number | null, signal: NodeJS.Signals | null, options: { exitReported?: boolean } = {}): void {
    handover.aborted = true;
    if (this.#handingOver === handover) this.#handingOver = undefined;
    // A restart the old node's exit scheduled is cancelled: the successor's exit schedules the one restart.
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const action = this.#stopping ? "successor killed (the launcher is stopping)" : "successor killed; restarting on the permanent release";
    this.#event("node exited during a handover", { pid: handover.old.pid, code, signal, successor: next.pid, action });
    if (!options.exitReported) this.emit("exit", { code, signal });
    this.#child = next;
    if (next.exitCode === null && next.signalCode === null) next.kill("SIGKILL");
    // Already gone (its exit found it untracked): restart now, as its exit would have.
    else if (this.#stopping) this.#finish();
    else this.#timer = setTimeout(() => void this.#spawn(), this.#options.minBackoffMs);
  }

  /** Send to a node over IPC unless its channel has closed; a send that fails is logged, never thrown. */
  #tell(child: ChildProcess, message: object): void {
    if (!child.connected) {
      this.#event("node unreachable", { pid: child.pid, message });
      return;
    }
    child.send(message, (error) => {
      if (error) this.#event("node unreachable", { pid: child.pid, message, error: error.message });
    });
  }

  /** Ping the current node, or kill it if it has answered nothing for heartbeatTimeoutMs. */
  #checkHeartbeat(): void {
    const child = this.#child;
    const answered = child && this.#answered.get(child);
    if (!child || answered === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const silentMs = Math.round(performance.now() - answered);
    if (silentMs >= this.#options.heartbeatTimeoutMs) {
      // Once per node: it is dead as soon as the signal lands, and its exit handler restarts it.
      this.#answered.delete(child);
      const action = this.#stopping ? "killed (it was being stopped)" : "killed; restarting on the permanent release";
      this.#event("node unresponsive", { pid: child.pid, silentMs, limitMs: this.#options.heartbeatTimeoutMs, action });
      this.emit("unresponsive", { pid: child.pid, silentMs });
      child.kill("SIGKILL");
      return;
    }
    if (child.connected) child.send({ type: "heartbeat" }, (error) => void error);
  }

  /** The root cannot boot (read-bootable.ts): a first start reports it; a restart would loop, so log why, drop the dead node's socket, end. */
  #cannotBoot(error: Error): undefined {
    if (this.listenerCount("boot-failed") > 0) this.emit("boot-failed", { error: error.message, badInput: error instanceof UserError && error.exitCode === ExitCode.badInput } satisfies BootFailure);
    else {
      this.#event("cannot restart the node", { error: error.message, action: "the launcher exits; fix the root, then `relup start` it again" });
      rmSync(controlSocketPath(this.root), { force: true });
      this.#finish(error.message);
    }
    return undefined;
  }

  #finish(failure?: string): void {
    // Once: a stop() after a failed start finds the launcher already finished.
    if (this.#finished) return;
    this.#finished = true;
    this.failure = failure;
    clearInterval(this.#heartbeat);
    this.#event("launcher stopped", {});
    // After the nodes' last lines (at most 2 s), once they are written: a detached launcher exits on "stopped".
    const read = Promise.race([Promise.all(this.#reading), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    void read.then(() => Promise.all([this.#nodeLog?.end(), this.#launcherLog?.end()])).then(() => this.emit("stopped"));
  }

  #event(event: string, fields: Record<string, unknown>): void {
    this.#launcherLog?.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
  }
}
