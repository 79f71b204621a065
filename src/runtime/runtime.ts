/**
 * The process registry and scheduler of a node: spawning, message passing (call, cast, send),
 * suspension and code change, exits, links and monitors, registered names, and the process map (every
 * live process that uses a module, supervised or not).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { MAX_TIMEOUT_MS } from "../appup/instruction.ts";
import type { Json } from "../release/names.ts";
import { systemClock, type Clock } from "./clock.ts";
import { describe, endedWithError } from "./exit-reason.ts";
import type { ModuleTable } from "./module-table.ts";
import { CallError, CallFrom, CodeChangeTimeout, formatPid, isThenable, parsePid, Proc, SuspendTimeout, type Behaviour, type From, type Message, type ProcId } from "./process.ts";
import { ProcessIndex } from "./process-index.ts";
import { settleWithin } from "./settle-within.ts";

export const DEFAULT_CALL_TIMEOUT = 5_000;
export const DEFAULT_SUSPEND_TIMEOUT = 5_000;
/** How long one process's codeChange may take to settle (OTP's sys:change_code default, 5 s). */
export const DEFAULT_CODE_CHANGE_TIMEOUT = 5_000;

/** Milliseconds, or "infinity" for no limit. */
export type Timeout = number | "infinity";

export interface SpawnOptions {
  name?: string;
  modules?: readonly string[];
  link?: ProcId;
  trapExit?: boolean;
}

export class Runtime {
  readonly clock: Clock;
  readonly #procs = new Map<ProcId, Proc>();
  readonly #names = new Map<string, ProcId>();
  /** module → the processes that use it, and the module lists they share (process-index.ts) */
  readonly #index = new ProcessIndex();
  readonly #self = new AsyncLocalStorage<ProcId>();
  #nextPid = 1;
  #nextRef = 1;
  /** messages handled by every process since the node started (a rate for `relup observe`) */
  messagesHandled = 0;
  /** since the node started: processes that ended with an error, supervisor restarts, calls that rejected (`health`) */
  readonly counters = { crashes: 0, restarts: 0, failedCalls: 0 };
  /** called after a process dies, with the reason (the application controller listens) */
  onExit: (proc: Proc, reason: unknown) => void = () => {};
  /** reports crashes (the node logs them) */
  onCrash: (proc: Proc, error: unknown) => void = () => {};
  /** reports a codeChange that settled after its timeout; what it settled with was ignored (the node logs it) */
  onLateCodeChange: (proc: Proc, outcome: { ok: true } | { ok: false; error: unknown }) => void = () => {};

  constructor(readonly table: ModuleTable, options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  /** Create a process, run `init` inside it, and register it. `init` failing means no process. */
  async spawn(module: string, behaviour: Behaviour, init: (proc: Proc) => unknown, options: SpawnOptions = {}): Promise<Proc> {
    return this.spawnNow(module, behaviour, init, options);
  }

  /**
   * As spawn, but synchronous when `init` is: the process is up (or `init` has thrown) when this returns,
   * and a promise is returned only when `init` returns one. A supervisor starts a fleet of children this
   * way without a promise per child.
   */
  spawnNow(module: string, behaviour: Behaviour, init: (proc: Proc) => unknown, options: SpawnOptions = {}): Proc | Promise<Proc> {
    if (options.name !== undefined && this.#names.has(options.name)) {
      throw new Error(`a process is already registered as ${JSON.stringify(options.name)} (${formatPid(this.#names.get(options.name)!)})`);
    }
    const id = this.#nextPid++;
    const proc = new Proc(id, module, this.#index.moduleList(module, options.modules), behaviour, options.name);
    if (options.trapExit) proc.trapExit = true;
    this.#procs.set(id, proc);
    this.#index.add(proc);
    if (options.name !== undefined) this.#names.set(options.name, id);
    if (options.link !== undefined) this.link(id, options.link);
    proc.busy = true;
    let state: unknown;
    try {
      state = this.#self.run(id, init, proc);
    } catch (error) {
      this.#failedInit(proc);
      throw error;
    }
    if (!isThenable(state)) return this.#started(proc, state);
    return Promise.resolve(state).then(
      (value) => this.#started(proc, value),
      (error: unknown) => {
        this.#failedInit(proc);
        throw error;
      },
    );
  }

  #started(proc: Proc, state: unknown): Proc {
    proc.state = state;
    proc.markIdle();
    this.#pump(proc);
    return proc;
  }

  #failedInit(proc: Proc): void {
    this.counters.crashes++;
    this.#forget(proc);
    proc.status = "dead";
    for (const other of proc.links()) this.#procs.get(other)?.removeLink(proc.id);
    proc.markIdle();
  }

  /** The live process `target` names: a process id, a printed pid (`<0.12.0>`) or a registered name. */
  get(target: ProcId | string): Proc | undefined {
    const id = typeof target === "number" ? target : (this.#names.get(target) ?? parsePid(target));
    const proc = id === undefined ? undefined : this.#procs.get(id);
    return proc && proc.status !== "dead" ? proc : undefined;
  }

  whereis(name: string): ProcId | undefined {
    return this.#names.get(name);
  }

  /** The process id of the process running the caller's code, if any. */
  self(): ProcId | undefined {
    return this.#self.getStore();
  }

  processes(): Proc[] {
    return [...this.#procs.values()];
  }

  /** The process map: every live process that uses `module` (callback module or declared modules). */
  processesUsing(module: string): Proc[] {
    return [...this.#index.usersOf(module)];
  }

  /** The process map's own entry for `module`, not a copy (ProcessIndex.usersOf): for a loop that yields. */
  usersOf(module: string): ReadonlySet<Proc> {
    return this.#index.usersOf(module);
  }

  /**
   * Change the modules a live process uses (its callback module stays first), keeping the module index
   * in step: a supervisor whose child spec now lists other modules refreshes its running child, so that
   * a later suspend of one of them finds it (OTP re-reads which_children).
   */
  setModules(proc: Proc, modules: readonly string[]): void {
    if (proc.status === "dead") return;
    this.#index.remove(proc);
    proc.modules = this.#index.moduleList(proc.module, modules);
    this.#index.add(proc);
  }

  /** How many processes there are, without listing them. */
  processCount(): number {
    return this.#procs.size;
  }

  /** How many live processes use `module`, without listing them. */
  countUsing(module: string): number {
    return this.#index.count(module);
  }

  call(target: ProcId | string, request: unknown, timeout = DEFAULT_CALL_TIMEOUT): Promise<unknown> {
    // Node's setTimeout fires after 1 ms above this: the call would time out at once.
    if (timeout > MAX_TIMEOUT_MS) return Promise.reject(new RangeError(`call timeout ${timeout} ms is above the longest timer Node.js keeps (${MAX_TIMEOUT_MS} ms, about 24.8 days). Fix: give at most ${MAX_TIMEOUT_MS}`));
    const proc = this.get(target);
    if (!proc || proc.status === "exiting") {
      this.counters.failedCalls++;
      return Promise.reject(new CallError(`no process ${JSON.stringify(target)}`, "noproc"));
    }
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = this.clock.setTimeout(() => {
        if (done) return;
        done = true;
        this.counters.failedCalls++;
        reject(new CallError(`call to ${JSON.stringify(target)} timed out after ${timeout} ms`, "timeout"));
      }, timeout);
      const settle = (fn: () => void) => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(timer);
        fn();
      };
      const failed = (error: unknown) => {
        this.counters.failedCalls++;
        reject(error);
      };
      const from: From = new CallFrom(this.self(), (value) => settle(() => resolve(value)), (error) => settle(() => failed(error)));
      this.#deliver(proc, { kind: "call", request, from });
    });
  }

  cast(target: ProcId | string, msg: unknown): void {
    const proc = this.get(target);
    if (proc) this.#deliver(proc, { kind: "cast", msg });
  }

  send(target: ProcId | string, msg: unknown): void {
    const proc = this.get(target);
    if (proc) this.#deliver(proc, { kind: "info", msg });
  }

  /**
   * Stop dispatching to `proc` and wait for its in-flight handler. On timeout the process keeps running
   * and the promise rejects with SuspendTimeout. Messages sent meanwhile queue up.
   */
  async suspend(proc: Proc, timeout = DEFAULT_SUSPEND_TIMEOUT): Promise<void> {
    await this.suspendNow(proc, timeout);
  }

  /** As suspend, but synchronous for an idle process: returns a promise only when a handler is in flight. */
  suspendNow(proc: Proc, timeout = DEFAULT_SUSPEND_TIMEOUT): Promise<void> | void {
    if (proc.status !== "running") {
      if (proc.status === "suspended") return;
      throw new Error(`process ${proc.pid} is ${proc.status}`);
    }
    proc.status = "suspended";
    if (proc.busy) return this.#awaitSuspended(proc, timeout);
  }

  /** Stop dispatching to a running `proc` at once, without waiting for its handler in flight (before a kill). */
  hold(proc: Proc): void {
    if (proc.status === "running") proc.status = "suspended";
  }

  async #awaitSuspended(proc: Proc, timeout: number): Promise<void> {
    let timer: unknown;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = this.clock.setTimeout(() => resolve("timeout"), timeout);
    });
    const outcome = await Promise.race([proc.whenIdle().then(() => "idle" as const), timedOut]);
    this.clock.clearTimeout(timer);
    if (outcome === "timeout") {
      if (proc.status === "suspended") proc.status = "running";
      this.#pump(proc);
      throw new SuspendTimeout(proc.pid, proc.module, timeout);
    }
  }

  resume(proc: Proc): void {
    if (proc.status !== "suspended") return;
    proc.status = "running";
    this.#pump(proc);
  }

  /** Migrate a suspended process's state; only legal while suspended. The state is unchanged if it throws or times out. */
  async codeChange(proc: Proc, vsn: unknown, extra: Json, timeout: Timeout = DEFAULT_CODE_CHANGE_TIMEOUT): Promise<void> {
    await this.codeChangeNow(proc, vsn, extra, timeout);
  }

  /**
   * As codeChange, but synchronous when the migration is: returns a promise only when it must wait.
   * A migration is a function of the state: it runs without the process context (`self()` is undefined
   * there), which keeps a fleet migration at about a microsecond per process.
   *
   * An asynchronous migration must settle within `timeout` ms, or the promise rejects with
   * CodeChangeTimeout and the migration is abandoned: whatever it settles with later is ignored (and
   * reported to onLateCodeChange), so the process keeps the state it had, and its behaviour is told
   * (abandonCodeChange: a supervisor stops the children it started). A synchronous migration cannot
   * be interrupted; one that never returns blocks the node, and its launcher's watchdog restarts it.
   */
  codeChangeNow(proc: Proc, vsn: unknown, extra: Json, timeout: Timeout = DEFAULT_CODE_CHANGE_TIMEOUT): Promise<void> | void {
    if (proc.status !== "suspended") throw new Error(`process ${proc.pid} is ${proc.status}; code_change needs it suspended`);
    const result = proc.behaviour.codeChange(proc, vsn, extra);
    if (!(result instanceof Promise)) {
      proc.state = result;
      return;
    }
    const timedOut = (ms: number) => {
      proc.behaviour.abandonCodeChange?.(proc);
      return new CodeChangeTimeout(proc.pid, proc.module, ms);
    };
    return settleWithin(result, timeout, timedOut, (outcome) => this.onLateCodeChange(proc, outcome), this.clock).then((state) => {
      proc.state = state;
    });
  }

  link(a: ProcId, b: ProcId): void {
    const pa = this.#procs.get(a);
    const pb = this.#procs.get(b);
    if (!pa || !pb) return;
    pa.addLink(b);
    pb.addLink(a);
  }

  /** Watch `target`: `{type: "DOWN", ref, pid, reason}` arrives as an info message when it dies. */
  monitor(watcher: ProcId, target: ProcId | string): number {
    const ref = this.#nextRef++;
    const proc = this.get(target);
    if (!proc) {
      this.send(watcher, { type: "DOWN", ref, pid: typeof target === "number" ? formatPid(target) : target, reason: "noproc" });
      return ref;
    }
    (proc.watchers ??= new Map()).set(ref, watcher);
    return ref;
  }

  /**
   * End a process. "kill" ends it at once; any other reason waits for its in-flight handler, then runs
   * its terminate callback. Linked processes get the exit: as a message if they trap exits, else they
   * exit too unless the reason is "normal". "kill" also ends a process that is already exiting (its
   * terminate hangs): it dies at once, and its terminate's end, whenever it comes, changes nothing.
   */
  async exit(proc: Proc, reason: unknown): Promise<void> {
    if (proc.status === "dead" || (proc.status === "exiting" && reason !== "kill")) return;
    proc.status = "exiting";
    if (reason !== "kill") {
      await proc.whenIdle();
      try {
        await this.#self.run(proc.id, () => proc.behaviour.terminate(proc, reason));
      } catch (error) {
        this.onCrash(proc, error);
      }
      // Killed meanwhile: it died then, with its links told.
      if ((proc.status as Proc["status"]) === "dead") return;
    }
    // Linked processes that exit with this one have exited too when this returns.
    await Promise.all(this.#die(proc, reason === "kill" ? "killed" : reason));
  }

  #die(proc: Proc, reason: unknown): Promise<void>[] {
    proc.status = "dead";
    if (endedWithError(reason)) this.counters.crashes++;
    this.#forget(proc);
    const pid = proc.pid;
    const queued = proc.queue ?? [];
    proc.queue = undefined;
    for (const msg of queued) {
      if (msg.kind === "call") msg.from.fail(new CallError(`process ${pid} (${proc.module}) exited: ${describe(reason)}`, "exit"));
    }
    for (const [ref, watcher] of proc.watchers ?? []) this.send(watcher, { type: "DOWN", ref, pid, reason });
    const exits: Promise<void>[] = [];
    for (const other of proc.links()) {
      const linked = this.#procs.get(other);
      if (!linked || linked.status === "dead") continue;
      linked.removeLink(proc.id);
      if (linked.trapExit) this.send(other, { type: "EXIT", pid, reason });
      else if (reason !== "normal") {
        // A busy process may be the one waiting for this exit: its exit is not awaited, or both would wait.
        const exiting = this.exit(linked, reason);
        if (!linked.busy) exits.push(exiting);
      }
    }
    this.onExit(proc, reason);
    return exits;
  }

  #forget(proc: Proc): void {
    this.#procs.delete(proc.id);
    this.#index.remove(proc);
    if (proc.name !== undefined && this.#names.get(proc.name) === proc.id) this.#names.delete(proc.name);
  }

  /** A message to an idle running process with nothing queued is dispatched at once, without queueing. */
  #deliver(proc: Proc, message: Message): void {
    if (proc.queue === undefined && !proc.busy && proc.status === "running") {
      proc.busy = true;
      void this.#dispatch(proc, message);
    } else (proc.queue ??= []).push(message);
  }

  /** Dispatch the oldest queued message, if the process may handle one now. The queue is dropped once empty. */
  #pump(proc: Proc): void {
    const queue = proc.queue;
    if (queue === undefined || proc.busy || proc.status !== "running") return;
    const message = queue.shift()!;
    if (queue.length === 0) proc.queue = undefined;
    proc.busy = true;
    void this.#dispatch(proc, message);
  }

  async #dispatch(proc: Proc, message: Message): Promise<void> {
    const version = this.table.running(proc.module);
    if (version) version.active++;
    proc.running = version;
    let crashed: unknown;
    try {
      await this.#self.run(proc.id, () => proc.behaviour.handle(proc, message));
      proc.handled++;
      this.messagesHandled++;
    } catch (error) {
      crashed = error ?? new Error(String(error));
    } finally {
      if (version) version.active--;
      proc.running = undefined;
      proc.markIdle();
    }
    if (crashed !== undefined) {
      // As in OTP, the caller learns of the crash once the process is gone (and its links were told).
      const detail = (crashed as Error)?.message ?? String(crashed);
      this.onCrash(proc, crashed);
      await this.exit(proc, { error: detail });
      if (message.kind === "call") message.from.fail(new CallError(`process ${proc.pid} (${proc.module}) crashed: ${detail}`, "handler"));
      return;
    }
    this.#pump(proc);
  }
}
