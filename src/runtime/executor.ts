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
 * code_change over many processes runs in chunks that yield to the event loop, so that processes and
 * requests the upgrade does not touch keep being served.
 */
import { assertNever } from "../errors.ts";
import type { AppFile } from "../release/app-file.ts";
import type { PurgeMethod } from "../appup/instruction.ts";
import type { Json } from "../release/names.ts";
import type { Instruction } from "../relup/instruction.ts";
import type { ObjectCode } from "./module-table.ts";
import type { Node } from "./node.ts";
import type { Pid, Proc } from "./process.ts";
import { DEFAULT_SUSPEND_TIMEOUT } from "./runtime.ts";
import { loadStep, purgeStep, removeStep, type ProcessRef } from "./steps/purge.ts";
import { StepError, wrap, wrapAsync } from "./steps/step-error.ts";
import { captureChildModules, childPids, childrenUsing, retireChildren } from "./supervisor.ts";

export interface ExecTarget {
  /** the release whose code load_object_code reads */
  dir: string;
  apps: readonly AppFile[];
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
  /** told of every process a purge kills (its module was removed and it still ran it) */
  onKilled?: (module: string, process: ProcessRef) => void;
  /** carries out restart_new_emulator (only the launcher can); absent means the op is refused */
  restartNewEmulator?: () => Promise<void>;
}

/** Executor state, one field per concern (cf. release_handler_1's #eval_state). */
interface ExecState {
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
  undo: (() => Promise<void> | void)[];
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
  const state: ExecState = { staged: new Map(), suspended: new Map(), replacedVsn: new Map(), removed: new Map(), supervisorsChanged: [], passedPointOfNoReturn: false, undo: [] };
  for (const [index, instruction] of script.entries()) {
    options.progress?.({ phase: "step", index, total: script.length, op: instruction.op, detail: describeStep(instruction) });
    const started = performance.now();
    try {
      await step(instruction, state, options);
      timings.push({ op: instruction.op, ms: performance.now() - started });
    } catch (error) {
      const failure = error instanceof StepError ? error : new StepError(error as Error, {});
      options.progress?.({ phase: "rollback", steps: state.undo.length, cause: failure.cause.message });
      await rollback(state, options.node);
      throw new InstallError(index, instruction, failure.cause, failure.where);
    }
  }
  for (const sup of state.supervisorsChanged) await retireChildren(options.node.runtime, sup);
  return timings;
}

/** Processes handled between two yields to the event loop, so that the rest of the node keeps serving. */
const CHUNK = 1000;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function step(i: Instruction, s: ExecState, o: ExecOptions): Promise<void> {
  const { runtime } = o.node;
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
    case "suspend": {
      const timeout = i.timeout === "infinity" ? 2 ** 31 - 1 : (i.timeout ?? DEFAULT_SUSPEND_TIMEOUT);
      for (const module of i.modules) {
        const procs = runtime.processesUsing(module).filter((p) => p.status === "running");
        const done: Proc[] = [];
        s.suspended.set(module, done);
        s.undo.push(() => {
          for (const p of done) runtime.resume(p);
          s.suspended.delete(module);
        });
        // An idle process suspends at once; only the busy ones are waited for (together, with the timeout).
        const busy: Proc[] = [];
        for (let k = 0; k < procs.length; k++) {
          const p = procs[k]!;
          if (p.busy) busy.push(p);
          else {
            p.status = "suspended";
            done.push(p);
          }
          if ((k + 1) % CHUNK === 0) await yieldToEventLoop();
        }
        const results = await Promise.allSettled(busy.map((p) => runtime.suspend(p, timeout).then(() => done.push(p))));
        const failed = results.findIndex((r) => r.status === "rejected");
        if (failed !== -1) throw new StepError((results[failed] as PromiseRejectedResult).reason, { module, pid: busy[failed]!.pid });
      }
      return;
    }
    case "load":
      return loadStep(i, s, o);
    case "remove":
      return removeStep(i, s, o);
    case "purge":
      return purgeStep(i, s, o);
    case "code_change":
      for (const { module, extra } of i.modules) await migrate(module, extra, i.mode, s, o);
      return;
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
      return apply(i, s, o);
    default:
      return assertNever(i);
  }
}

async function migrate(module: string, extra: Json, mode: "up" | "down", s: ExecState, o: ExecOptions): Promise<void> {
  const { runtime } = o.node;
  const procs = s.suspended.get(module) ?? [];
  const vsn = mode === "up" ? (s.replacedVsn.get(module) ?? o.node.table.current(module)?.vsn) : { down: targetVsn(o.target, module) };
  const chunk = o.chunkSize ?? CHUNK;
  // One undo entry for the whole fleet (a closure per process costs a million allocations at 1M processes):
  // the states of the processes reached so far go back. A supervisor's own undo (stopping the children its
  // code change started) is pushed later, so it runs first.
  const before: unknown[] = [];
  s.undo.push(() => {
    for (let j = 0; j < before.length; j++) procs[j]!.state = before[j];
  });
  for (let k = 0; k < procs.length; k++) {
    const proc = procs[k]!;
    before.push(proc.state);
    try {
      const children = proc.behaviour.kind === "supervisor" ? childPids(proc) : undefined;
      const restoreModules = children ? captureChildModules(runtime, proc) : undefined;
      const pending = runtime.codeChangeNow(proc, vsn, extra);
      if (pending) await pending;
      if (children) {
        // Undone before the state is put back: the children this code change started are stopped, and
        // the kept children get back the modules their old specs listed.
        const started = childPids(proc).filter((p) => !children.includes(p));
        s.undo.push(() => stopStarted(o, started), restoreModules!);
        s.supervisorsChanged.push(proc);
      }
    } catch (error) {
      throw new StepError(new Error(`codeChange failed for process ${k + 1} of ${procs.length}: ${(error as Error).message}`), { module, pid: proc.pid });
    }
    if ((k + 1) % chunk === 0 || k + 1 === procs.length) {
      o.progress?.({ phase: "code_change", module, done: k + 1, total: procs.length });
      if (k + 1 < procs.length) await yieldToEventLoop();
    }
  }
}

async function stopStarted(o: ExecOptions, pids: readonly Pid[]): Promise<void> {
  for (const pid of pids) {
    const proc = o.node.runtime.get(pid);
    if (proc) await o.node.runtime.exit(proc, "shutdown");
  }
}

function targetVsn(target: ExecTarget, module: string): string | number | undefined {
  const [app, ...rest] = module.split("/");
  return target.apps.find((a) => a.name === app)?.modules.find((m) => m.name === rest.join("/"))?.vsn;
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

async function apply(i: Extract<Instruction, { op: "apply" }>, s: ExecState, o: ExecOptions): Promise<void> {
  const { controller, table } = o.node;
  if (i.module !== "application") {
    const fn = table.namespace(i.module)[i.function];
    if (typeof fn !== "function") throw new StepError(new Error(`${i.module} does not export ${i.function}`), { module: i.module });
    await wrapAsync({ module: i.module }, () => Promise.resolve((fn as (...a: unknown[]) => unknown)(...i.args)));
    return;
  }
  const app = String(i.args[0]);
  const appFile = o.target.apps.find((a) => a.name === app);
  switch (i.function) {
    case "load":
      controller.load(requireApp(appFile, app));
      s.undo.push(() => controller.unload(app));
      return;
    case "start": {
      if (!controller.list().some((a) => a.name === app)) {
        controller.load(requireApp(appFile, app));
        s.undo.push(() => controller.unload(app));
      }
      await controller.start(app, (i.args[1] as "permanent" | "transient" | "temporary" | undefined) ?? "permanent");
      s.undo.push(() => controller.stop(app));
      return;
    }
    case "stop": {
      const was = controller.list().find((a) => a.name === app)?.status;
      await controller.stop(app);
      if (was === "running") s.undo.push(() => controller.start(app));
      return;
    }
    case "unload": {
      const entry = controller.appFile(app);
      controller.unload(app);
      if (entry) s.undo.push(() => controller.load(entry));
      return;
    }
    case "config_change": {
      const before = { ...(controller.getEnv(app) ?? {}) };
      const [, changed, added, removed] = i.args as [string, Record<string, Json>, Record<string, Json>, string[]];
      s.undo.push(() => controller.restoreEnv(app, before));
      await controller.configChange(app, changed ?? {}, added ?? {}, removed ?? []);
      return;
    }
    default:
      throw new Error(`application.${i.function} is not an application controller function (load, start, stop, unload, config_change)`);
  }
}

function requireApp(app: AppFile | undefined, name: string): AppFile {
  if (!app) throw new Error(`the target release has no application ${name}`);
  return app;
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
