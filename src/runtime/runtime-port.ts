/**
 * The executor's view of a node: the narrow set of operations the instruction executor and its steps
 * perform on a running release, and nothing else (cf. release_handler_1, which talks to the code server,
 * `sys` and the supervisors only through their calls). The executor and steps/ depend on this interface
 * only, never on Node, Runtime internals or a supervisor's state; node-port.ts adapts a live node to it.
 * So the executor runs, and its rollback is tested, on any runtime built in the test process (a manual
 * clock decides every timeout), with no child process.
 *
 *   processes      find the processes using a module; suspend one (an idle one at once, a busy one waited
 *                  for with a timeout), resume it, kill the ones still running a removed module
 *   states         migrate one suspended process (codeChange, with its timeout on the clock); save its state
 *                  and put saved states back (a supervisor's through the supervisor)
 *   supervisors    the children whose spec uses a module, terminate/restart one, a supervisor's children
 *                  and the modules they use, stopping processes with a bound, retiring dropped children
 *   modules        the module table operations a plan uses (load is the swap: the current version turns old)
 *   applications   the application controller operations the apply step and the commit use
 *   clock, log     every wait of a step is measured on `clock`; what a rollback could not do is logged
 */
import type { AppFile } from "../release/app-file.ts";
import type { Json } from "../release/names.ts";
import type { ApplicationController } from "./application-controller.ts";
import type { Clock } from "./clock.ts";
import type { Kills, ProcessRef } from "./kill-processes.ts";
import type { ModuleTable, ObjectCode } from "./module-table.ts";
import type { PreparedCode } from "./prepare-release.ts";
import type { Proc, ProcId } from "./process.ts";
import type { Timeout } from "./runtime.ts";
import type { ChildSpec } from "./supervisor.ts";

/** The module table operations of a plan: snapshot/restore for the rollback, load (swap), remove, purge. */
export type ModulesPort = Pick<ModuleTable, "snapshot" | "restore" | "load" | "remove" | "purge" | "current" | "old" | "isRemoved" | "namespace">;

/** The application controller operations of the apply step and of the end-of-install commit. */
export type ApplicationsPort = Pick<
  ApplicationController,
  "config" | "useConfig" | "load" | "unload" | "start" | "stop" | "startType" | "list" | "appFile" | "snapshot" | "restore" | "setEnvDefaults" | "changeApplicationData" | "configChange" | "tell" | "told" | "restartFailed"
>;

/** A supervised child whose spec uses a module: its supervisor, its id, its process if it runs. */
export interface SupervisedChild {
  sup: ProcId;
  id: string;
  pid: ProcId | undefined;
  shutdown: ChildSpec["shutdown"];
}

/** A process's state as saved before a migration, to be put back by restoreStates (opaque to the executor). */
export type SavedState = unknown;

export interface RuntimePort {
  readonly clock: Clock;
  log(event: string, fields: Record<string, unknown>): void;

  /**
   * Read and compile module `ref` (`app/module`) of a release directory: nothing runs yet. `prepared`:
   * the release reader already read and compiled it (its text and code cache, or its compile error).
   */
  readObjectCode(releaseDir: string, apps: readonly AppFile[], ref: string, prepared?: PreparedCode): ObjectCode;
  readonly modules: ModulesPort;
  readonly applications: ApplicationsPort;

  /**
   * Every live process that uses `module` (callback module or declared): the runtime's index itself, not a
   * copy, so a loop that yields sees processes started meanwhile and skips those that died.
   */
  processesUsing(module: string): Iterable<Proc>;
  /**
   * Stop dispatching to `proc`. An idle (or already suspended) process is suspended at once and nothing is
   * returned; for a busy one, a promise that resolves when its handler ends, or rejects with SuspendTimeout
   * after `timeoutMs` on the clock (the process then keeps running).
   */
  suspend(proc: Proc, timeoutMs: number): Promise<void> | void;
  /** Dispatch to `proc` again, its queued messages first; a process that is not suspended is left alone. */
  resume(proc: Proc): void;
  /** The processes whose callback module is `module` and that run its old code (all of them once it is removed). */
  runningOldCode(module: string): readonly Proc[];
  /** Kill the processes still running removed modules (module → processes), supervised ones taken out of their supervisors first. */
  kill(doomed: ReadonlyMap<string, readonly Proc[]>, onKilled?: (module: string, process: ProcessRef) => void): Kills;

  /** Migrate a suspended process's state; synchronous when the migration is. Its state is unchanged if it throws or times out. */
  codeChange(proc: Proc, vsn: unknown, extra: Json, timeout: Timeout): Promise<void> | void;
  saveState(proc: Proc): SavedState;
  /** Put back `saved[k]` as the state of `procs[k]`; a supervisor takes back its specs, keeping its live children. */
  restoreStates(procs: readonly Proc[], saved: readonly SavedState[]): Promise<void>;

  /** Children (running or stopped) whose spec uses `module`. */
  childrenUsing(module: string): SupervisedChild[];
  terminateChild(sup: ProcId, id: string, timeoutMs: number): Promise<void>;
  /** Start a stopped child again (nothing happens to a running one). */
  restartChild(sup: ProcId, id: string, timeoutMs: number): Promise<void>;
  /**
   * The undo of a stop: restartChild, if the supervisor still has a child `id`. One that a code change
   * being rolled back had started is gone by then (its supervisor took back its old specs) and stays gone.
   */
  restoreChild(sup: ProcId, id: string, timeoutMs: number): Promise<void>;
  /** The pids of a supervisor's running children; undefined for a process that is no supervisor. */
  childPids(proc: Proc): ProcId[] | undefined;
  /** The modules each running child of a supervisor uses now, and how to put them back. */
  captureChildModules(sup: Proc): () => void;
  /** End the live processes among `pids` with `shutdown`, each given `ms` for its terminate and then killed; returns the killed ones. */
  stopWithin(pids: readonly ProcId[], ms: number): Promise<Proc[]>;
  /** After the install commits: stop the children a code change of `sup` dropped. */
  retireChildren(sup: Proc): Promise<void>;
}
