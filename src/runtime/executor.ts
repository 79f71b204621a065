/**
 * The instruction executor (release_handler_1:eval/2): runs a low-level relup script on the live node,
 * one clause per op, and puts the node back exactly as it was if any step fails, before or after the
 * point of no return (OTP restarts the node there; relup does not need to).
 *
 * Every step that changes something records how to undo it (an undo log). On failure the log is run
 * backwards: module versions come back from snapshots, each migrated process gets its old state object
 * back, supervisors their specs (children they started are stopped), applications their status and
 * env; then every suspended process is resumed with its queued messages intact. The error names the
 * instruction, the module, the process and the cause. The one thing no undo brings back is a process a
 * purge killed; generated plans purge last, and load, remove and purge live in steps/purge.ts.
 *
 * After the last step the install commits: the application controller takes the target release's app
 * files and tells the applications of env changes (steps/apply-step.ts, undone like a step if it fails),
 * then supervisors stop the children their new specs dropped.
 *
 * code_change over many processes runs in chunks that yield to the event loop, so that processes and
 * requests the upgrade does not touch keep being served. The suspend and code_change steps live in
 * ./steps/ (their timeouts are described there).
 */
import { assertNever } from "../errors.ts";
import type { PurgeMethod } from "../appup/instruction.ts";
import type { AppFile } from "../release/app-file.ts";
import type { Json } from "../release/names.ts";
import type { Instruction } from "../relup/instruction.ts";
import type { ObjectCode } from "./module-table.ts";
import type { Node } from "./node.ts";
import type { Pid, Proc } from "./process.ts";
import type { RootConfig } from "./root-config.ts";
import type { Timeout } from "./runtime.ts";
import { applicationSteps, type ApplicationSteps } from "./steps/apply-step.ts";
import { codeChangeStep } from "./steps/code-change.ts";
import { loadStep, purgeStep, removeStep, type ProcessRef } from "./steps/purge.ts";
import { StepError, wrap } from "./steps/step-error.ts";
import { suspendStep } from "./steps/suspend.ts";
import { childrenUsing, retireChildren } from "./supervisor.ts";

export interface ExecTarget {
  /** the release whose code load_object_code reads */
  dir: string;
  apps: readonly AppFile[];
  /** the root's config.json as the install read it: the env overrides from the first env step on */
  config?: RootConfig;
}

export type Progress =
  | { phase: "step"; index: number; total: number; op: Instruction["op"]; detail: string }
  | { phase: "code_change"; module: string; done: number; total: number }
  | { phase: "rollback"; steps: number; cause: string };

export interface ExecOptions {
  node: Node;
  target: ExecTarget;
  progress?: (event: Progress) => void;
  /** processes migrated between two yields to the event loop */
  chunkSize?: number;
  /** how long each process's codeChange may take, for every module of this install (overrides the plan's) */
  codeChangeTimeout?: Timeout;
  /** told of every process a purge kills (its module was removed and it still ran it) */
  onKilled?: (module: string, process: ProcessRef) => void;
  /** carries out restart_new_emulator (only the launcher can); absent means the op is refused */
  restartNewEmulator?: () => Promise<void>;
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
  /** supervisors that re-read their specs: their removed children stop when the script commits */
  supervisorsChanged: Proc[];
  passedPointOfNoReturn: boolean;
  undo: (() => Promise<unknown> | unknown)[];
  /** the application controller's steps (apply) and the end-of-install commit */
  applications: ApplicationSteps;
}

export class InstallError extends Error {
  override readonly name = "InstallError";
  constructor(
    readonly index: number,
    readonly instruction: Instruction,
    override readonly cause: Error,
    readonly where: { module?: string; pid?: Pid } = {},
  ) {
    const at = [where.module && `module ${where.module}`, where.pid && `process ${where.pid}`].filter(Boolean).join(", ");
    super(`step ${index + 1} (${instruction.op})${at ? ` at ${at}` : ""} failed: ${cause.message}`);
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
  const applications = applicationSteps(options.node, options.target, (fn) => undo.push(fn), options.codeChangeTimeout);
  const state: ExecState = { staged: new Map(), suspended: new Map(), replacedVsn: new Map(), removed: new Map(), supervisorsChanged: [], passedPointOfNoReturn: false, undo, applications };
  const fail = async (index: number, instruction: Instruction, error: unknown): Promise<never> => {
    const failure = error instanceof StepError ? error : new StepError(error as Error, {});
    options.progress?.({ phase: "rollback", steps: state.undo.length, cause: failure.cause.message });
    await rollback(state, options.node);
    throw new InstallError(index, instruction, failure.cause, failure.where);
  };
  for (const [index, instruction] of script.entries()) {
    options.progress?.({ phase: "step", index, total: script.length, op: instruction.op, detail: describeStep(instruction) });
    const started = performance.now();
    try {
      await step(instruction, state, options);
      timings.push({ op: instruction.op, ms: performance.now() - started });
    } catch (error) {
      await fail(index, instruction, error);
    }
  }
  // The commit: the target release's app files, and the applications told of env changes (apply-step.ts).
  // It fails as a step after the last one would, and is rolled back the same way. Not after a
  // restart_new_emulator: the target release runs in the node that took over, none of it here.
  if (!script.some((i) => i.op === "restart_new_emulator")) {
    try {
      await state.applications.commit();
    } catch (error) {
      await fail(script.length, { op: "apply", module: "application", function: "config_change", args: [] }, error);
    }
  }
  for (const sup of state.supervisorsChanged) await retireChildren(options.node.runtime, sup);
  return timings;
}

/** Processes handled between two yields to the event loop, so that the rest of the node keeps serving. */
export const CHUNK = 1000;

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function step(i: Instruction, s: ExecState, o: ExecOptions): Promise<void> {
  const { table, runtime } = o.node;
  switch (i.op) {
    case "restart_new_emulator":
      if (!o.restartNewEmulator) throw new Error("restart_new_emulator needs the launcher; start the node with `relup start`");
      return o.restartNewEmulator();
    case "load_object_code": {
      const app = o.target.apps.find((a) => a.name === i.application);
      if (!app || app.version !== i.version) throw new Error(`the target release has ${app ? `${i.application} ${app.version}` : `no application ${i.application}`}, not ${i.application} ${i.version}`);
      for (const m of i.modules) s.staged.set(`${i.application}/${m}`, wrap({ module: `${i.application}/${m}` }, () => o.node.readObjectCode(o.target.dir, o.target.apps, `${i.application}/${m}`)));
      return;
    }
    case "point_of_no_return":
      s.passedPointOfNoReturn = true;
      return;
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
      for (const module of i.modules) {
        const procs = s.suspended.get(module) ?? [];
        for (let k = 0; k < procs.length; k++) {
          runtime.resume(procs[k]!);
          if ((k + 1) % CHUNK === 0) await yieldToEventLoop();
        }
        s.suspended.delete(module);
        s.undo.push(() => {
          // On rollback they are suspended again, so that restored code and state meet no message first.
          for (const p of procs) if (p.status === "running") p.status = "suspended";
          s.suspended.set(module, procs);
        });
      }
      return;
    case "stop":
    case "start":
      return stopOrStart(i.op, i.modules, s, o);
    case "apply":
      return s.applications.apply(i);
    default:
      return assertNever(i);
  }
}

async function stopOrStart(op: "stop" | "start", modules: readonly string[], s: ExecState, o: ExecOptions): Promise<void> {
  const { runtime } = o.node;
  for (const module of modules) {
    for (const { sup, id, pid } of childrenUsing(runtime, module)) {
      if (op === "stop") {
        await runtime.call(sup, { op: "terminate_child", id });
        // Only a child that was running is started again by a rollback.
        if (pid) s.undo.push(async () => void (await runtime.call(sup, { op: "restart_child", id })));
      } else {
        await runtime.call(sup, { op: "restart_child", id });
        s.undo.push(async () => void (await runtime.call(sup, { op: "terminate_child", id })));
      }
    }
  }
}

async function rollback(s: ExecState, node: Node): Promise<void> {
  for (const undo of s.undo.reverse()) {
    try {
      await undo();
    } catch (error) {
      node.log("rollback step failed", { error: (error as Error).message });
    }
  }
  for (const procs of s.suspended.values()) for (const p of procs) node.runtime.resume(p);
  s.suspended.clear();
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
    case "point_of_no_return":
    case "restart_new_emulator":
      return "";
    default:
      return assertNever(i);
  }
}
