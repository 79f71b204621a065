/**
 * The instruction executor (release_handler_1:eval/2): runs a low-level relup script on the live node,
 * one clause per op, and puts the node back exactly as it was if any step fails, before or after the
 * point of no return (OTP restarts the node there; relup does not need to).
 *
 * Every step that changes something records how to undo it (an undo log). On failure the log is run
 * backwards in two phases. First the undos: module versions come back from snapshots, each migrated
 * process gets its old state object back (a resume is undone by suspending again, waiting for handlers
 * still in flight on the new code), supervisors their specs (children they started are stopped),
 * applications their app files and env; then every suspended process is resumed with its queued messages
 * intact. Then the restarts: children a stop step terminated or a purge killed, and applications the plan
 * stopped, start again, so that old code always starts under the old env. The error names the instruction,
 * the module, the process and the cause, and the processes a purge killed (their state is lost). An undo
 * or restart that fails is listed in it too ("rollback incomplete: ..."), and a permanent application the
 * rollback could not start again stops the node, which the launcher restarts on the permanent release.
 *
 * After the body of the script the install commits: the application controller takes the target release's
 * app files and tells the applications of env changes (steps/apply-step.ts; it can fail, and is undone
 * like a step). The trailing purge steps run after the commit: generated plans put there every purge of a
 * removed module, the one step that kills, so that nothing which can fail comes after a kill. Last,
 * supervisors stop the children their new specs dropped. Load, remove and purge live in steps/purge.ts,
 * stop and start in steps/stop-start.ts.
 *
 * The executor and its steps see the node only through a RuntimePort (runtime-port.ts): which processes
 * use a module, suspend/resume them, migrate and restore their states, the supervisors' children, the
 * module table and the application controller. `step` is a dispatcher, one function per step.
 *
 * suspend, code_change and resume over many processes run in time slices (5 ms by default) that yield to
 * the event loop, so that processes and requests the upgrade does not touch keep being served
 * (steps/time-slice.ts); the event loop also turns once after the load_object_code steps, before the
 * step that follows them. The suspend and code_change steps live in
 * ./steps/ (their timeouts are described there).
 */
import { assertNever } from "../errors.ts";
import type { PurgeMethod } from "../appup/instruction.ts";
import type { AppFile } from "../release/app-file.ts";
import type { Instruction } from "../relup/instruction.ts";
import type { ObjectCode } from "./module-table.ts";
import type { PreparedCode } from "./prepare-release.ts";
import type { Pid, Proc } from "./process.ts";
import type { RootConfig } from "./root-config.ts";
import type { RuntimePort } from "./runtime-port.ts";
import type { Timeout } from "./runtime.ts";
import type { BarrierProgress } from "./barrier-gate.ts";
import { applicationSteps, type ApplicationSteps } from "./steps/apply-step.ts";
import { BarrierAbort, holdBeforeChange, pointOfNoReturnStep, type ExecBarriers } from "./steps/barrier.ts";
import { codeChangeStep } from "./steps/code-change.ts";
import { loadObjectCodeStep } from "./steps/load-object-code.ts";
import { loadStep, purgeStep, removeStep, type ProcessRef } from "./steps/purge.ts";
import { RuntimeError } from "./issues/runtime-error.ts";
import { StepError } from "./steps/step-error.ts";
import { stopOrStartStep } from "./steps/stop-start.ts";
import { TimeSlice } from "./steps/time-slice.ts";
import { resumeStep, suspendStep } from "./steps/suspend.ts";

export interface ExecTarget {
  /** the release whose code load_object_code reads */
  dir: string;
  apps: readonly AppFile[];
  /** the root's config.json as the install read it: the env overrides from the first env step on */
  config?: RootConfig;
  /** module → its text and code cache (or compile error), read by the release reader before the install */
  code?: ReadonlyMap<string, PreparedCode>;
}

export type Progress =
  | { phase: "step"; index: number; total: number; op: Instruction["op"]; detail: string; modules?: string[] }
  /** a step finished (a failed one is followed by `rollback` instead) */
  | { phase: "step-done"; index: number; op: Instruction["op"]; ms: number }
  | { phase: "code_change"; module: string; done: number; total: number }
  | { phase: "rollback"; steps: number; cause: string }
  | BarrierProgress;

export interface ExecOptions {
  /** the node as the executor sees it (a live Node's `port`, or any runtime adapted by runtimePort) */
  port: RuntimePort;
  target: ExecTarget;
  progress?: (event: Progress) => void;
  /** how long (ms) a loop over processes runs before it yields to the event loop (steps/time-slice.ts; default 5) */
  sliceMs?: number;
  /** the clock the slices are timed with (ms; default performance.now) */
  now?: () => number;
  /** how long each process's codeChange may take, for every module of this install (overrides the plan's) */
  codeChangeTimeout?: Timeout;
  /** told of every process a purge kills (its module was removed and it still ran it) */
  onKilled?: (module: string, process: ProcessRef) => void;
  /** carries out restart_new_emulator (only the launcher can); absent means the op is refused */
  restartNewEmulator?: () => Promise<void>;
  /** where the install waits at its barrier points (steps/barrier.ts); absent, they pass at once */
  barriers?: ExecBarriers;
}

/** Executor state, one field per concern (cf. release_handler_1's #eval_state). */
export interface ExecState {
  /** module → code read by load_object_code, not yet made current */
  staged: Map<string, ObjectCode>;
  /** module → processes suspended for it, in suspension order; resume drains this */
  suspended: Map<string, Proc[]>;
  /** module → vsn that was current before this script loaded it (codeChange up receives it) */
  replacedVsn: Map<string, string | number>;
  /** module → the postPurge of the remove that took it out: how its purge treats processes still running it */
  removed: Map<string, PurgeMethod>;
  /** module → the timeout its suspend step waited with (undoing its resume waits as long) */
  suspendTimeouts: Map<string, number>;
  /** supervisors that re-read their specs: their removed children stop when the script commits */
  supervisorsChanged: Proc[];
  passedPointOfNoReturn: boolean;
  undo: (() => Promise<unknown> | unknown)[];
  /** undo entries that start something again (a child, an application): run after every other undo */
  restarts: (() => Promise<unknown> | unknown)[];
  /** every process a purge of this script killed */
  killed: ProcessRef[];
  /** the application controller's steps (apply) and the end-of-install commit */
  applications: ApplicationSteps;
  /** when the loops over processes yield to the event loop: one budget for the whole install */
  slice: TimeSlice;
}

/** A step failed and the node was rolled back: the issue says which step, where, why, and on which side of the point of no return. */
export class InstallError extends RuntimeError {
  override readonly name = "InstallError";
  constructor(
    readonly index: number,
    readonly instruction: Instruction,
    override readonly cause: Error,
    readonly where: { module?: string; pid?: Pid } = {},
    /** processes a purge killed before the failure: the rollback did not bring their state back */
    readonly killed: readonly ProcessRef[] = [],
    /** undo and restart entries of the rollback that failed: what it could not put back */
    readonly rollbackFailures: readonly string[] = [],
    /** whether the failed step came after the point of no return (the running code had changed) */
    readonly phase: "before-point-of-no-return" | "after-point-of-no-return" = "after-point-of-no-return",
  ) {
    super({
      kind: "install-failed",
      index,
      op: instruction.op,
      ...(where.module !== undefined ? { module: where.module } : {}),
      ...(where.pid !== undefined ? { pid: where.pid } : {}),
      cause: cause.message,
      phase,
      killed: killed.map((p) => ({ ...p })),
      rollbackFailures: [...rollbackFailures],
    });
  }
}

export interface StepTiming {
  op: Instruction["op"];
  ms: number;
}

/** Run `script`; resolves with each step's duration when every step succeeded, or rejects with InstallError after rolling back. */
export async function execute(script: readonly Instruction[], options: ExecOptions): Promise<StepTiming[]> {
  const timings: StepTiming[] = [];
  const undo: ExecState["undo"] = [];
  const restarts: ExecState["restarts"] = [];
  const applications = applicationSteps(options.port, options.target, (fn) => undo.push(fn), (fn) => restarts.push(fn), options.codeChangeTimeout);
  const state: ExecState = { staged: new Map(), suspended: new Map(), replacedVsn: new Map(), removed: new Map(), suspendTimeouts: new Map(), supervisorsChanged: [], passedPointOfNoReturn: false, undo, restarts, killed: [], applications, slice: new TimeSlice(options) };
  const fail = async (index: number, instruction: Instruction, error: unknown): Promise<never> => {
    const failure = error instanceof StepError ? error : new StepError(error as Error, {});
    options.progress?.({ phase: "rollback", steps: state.undo.length + state.restarts.length, cause: failure.cause.message });
    const phase = state.passedPointOfNoReturn ? "after-point-of-no-return" : "before-point-of-no-return";
    const incomplete = await rollback(state, options.port);
    if (failure.cause instanceof BarrierAbort) throw failure.cause.failed(index, phase, state.killed, incomplete);
    throw new InstallError(index, instruction, failure.cause, failure.where, [...state.killed], incomplete, phase);
  };
  const run = async (index: number) => {
    const instruction = script[index]!;
    options.progress?.({ phase: "step", index, total: script.length, op: instruction.op, detail: describeStep(instruction), ...stepModules(instruction) });
    const started = performance.now();
    try {
      await step(instruction, state, options);
      const ms = performance.now() - started;
      timings.push({ op: instruction.op, ms });
      options.progress?.({ phase: "step-done", index, op: instruction.op, ms });
    } catch (error) {
      await fail(index, instruction, error);
    }
  };
  // The trailing purges (where generated plans put every purge of a removed module) run after the commit.
  const tail = trailingPurges(script);
  for (let index = 0; index < tail; index++) {
    await run(index);
    // The modules are compiled and nothing has changed yet: the event loop turns before the next step,
    // so that compiling and the swap (the load steps) are two blocks, not one.
    if (script[index]!.op === "load_object_code" && index + 1 < tail && script[index + 1]!.op !== "load_object_code") await state.slice.yieldNow();
  }
  // The commit: the target release's app files, and the applications told of env changes (apply-step.ts).
  // It fails as a step after the body would, and is rolled back the same way, with nobody killed yet.
  // Not after a restart_new_emulator: the target release runs in the node that took over, none of it here.
  if (!script.some((i) => i.op === "restart_new_emulator")) {
    try {
      await state.applications.commit();
    } catch (error) {
      await fail(tail, { op: "apply", module: "application", function: "config_change", args: [] }, error);
    }
  }
  for (let index = tail; index < script.length; index++) await run(index);
  for (const sup of state.supervisorsChanged) await options.port.retireChildren(sup);
  return timings;
}

/** Where the script's trailing run of purge steps starts (its length if it ends otherwise). */
function trailingPurges(script: readonly Instruction[]): number {
  let start = script.length;
  while (start > 0 && script[start - 1]!.op === "purge") start--;
  return start;
}

async function step(i: Instruction, s: ExecState, o: ExecOptions): Promise<void> {
  switch (i.op) {
    case "restart_new_emulator":
      if (!o.restartNewEmulator) throw new Error("restart_new_emulator needs the launcher; start the node with `relup start`");
      await holdBeforeChange(o.barriers);
      return o.restartNewEmulator();
    case "load_object_code":
      return loadObjectCodeStep(i, s, o);
    case "point_of_no_return":
      return pointOfNoReturnStep(s, o.barriers);
    case "suspend":
      return suspendStep(i, s, o);
    case "load":
      return loadStep(i, s, o);
    case "remove":
      return removeStep(i, s, o);
    case "purge":
      return purgeStep(i, s, o);
    case "code_change":
      return codeChangeStep(i, s, o);
    case "resume":
      return resumeStep(i, s, o);
    case "stop":
    case "start":
      return stopOrStartStep(i.op, i.modules, s, o);
    case "apply":
      return s.applications.apply(i);
    case "sync_nodes":
      return o.barriers?.at({ id: i.id, timeoutMs: i.timeoutMs });
    default:
      return assertNever(i);
  }
}

/**
 * Two phases. First every undo, newest first: code, states, supervisors' specs, applications' app files
 * and env, each back as it was; then every suspended process resumes. Only then the restarts, newest
 * first: children a stop step terminated or a purge killed, applications the plan stopped. So old code
 * always starts under the old env, and finds the processes it calls running.
 *
 * An entry that fails does not stop the others. Returns what failed (the install's error lists it as
 * "rollback incomplete"); a permanent application the rollback could not start again then takes the node
 * down, so that the launcher restarts it on the permanent release.
 */
async function rollback(s: ExecState, port: RuntimePort): Promise<string[]> {
  const failures: string[] = [];
  const runAll = async (undos: ExecState["undo"]) => {
    for (const undo of undos.reverse()) {
      try {
        await undo();
      } catch (error) {
        const message = (error as Error)?.message ?? String(error);
        failures.push(message);
        port.log("rollback step failed", { error: message });
      }
    }
  };
  await runAll(s.undo);
  for (const procs of s.suspended.values()) for (const p of procs) port.resume(p);
  s.suspended.clear();
  await runAll(s.restarts);
  s.applications.rolledBack();
  return failures;
}

/** The modules a suspend or resume step holds or lets go (what a timeline draws as suspend windows). */
function stepModules(i: Instruction): { modules?: string[] } {
  return i.op === "suspend" || i.op === "resume" ? { modules: [...i.modules] } : {};
}

function describeStep(i: Instruction): string {
  switch (i.op) {
    case "load_object_code":
      return `${i.application} ${i.version}: ${i.modules.join(", ")}`;
    case "load":
    case "remove":
      return i.module;
    case "suspend":
    case "resume":
    case "purge":
    case "stop":
    case "start":
      return i.modules.join(", ");
    case "code_change":
      return `${i.mode} ${i.modules.map((m) => m.module).join(", ")}`;
    case "apply":
      return `${i.module}.${i.function}`;
    case "sync_nodes":
      return `${i.id} (at most ${i.timeoutMs} ms)`;
    case "point_of_no_return":
    case "restart_new_emulator":
      return "";
    default:
      return assertNever(i);
  }
}
