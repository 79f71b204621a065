/**
 * The `suspend` step: stop dispatch to every running process that uses each module, in the order the
 * plan lists the modules. An idle process is suspended at once; the busy ones are waited for together,
 * each at most the instruction's timeout (the module's own, as its appup wrote it). A timeout fails the
 * step, naming the module and the process; the processes suspended so far are resumed by the undo.
 *
 * Undoing a later `resume` (resuspendStep) suspends them again the same way, waiting for the handlers they
 * started on the new code, so that none of those writes its state over the one the rollback puts back.
 * The waits of every module resumed run together, each at most the module's timeout capped at
 * ROLLBACK_WAIT_MS (5 s; "infinity" too): a rollback never hangs. A process whose handler does not finish
 * by then is logged and left running; its handler's state may then outlive the rollback.
 *
 * The `resume` step lives here too: its undo is the resuspension.
 */
import type { Instruction } from "../../relup/instruction.ts";
import { StepError } from "./step-error.ts";
import type { ExecOptions, ExecState } from "../executor.ts";
import type { Proc } from "../process.ts";
import { DEFAULT_SUSPEND_TIMEOUT } from "../runtime.ts";
import { capped, ROLLBACK_WAIT_MS } from "../bounded-wait.ts";
import { MAX_TIMEOUT_MS } from "../../appup/instruction.ts";

/** The longest timer Node accepts (about 24.8 days): "infinity" waits this long. */
const FOREVER = MAX_TIMEOUT_MS;

export async function suspendStep(i: Extract<Instruction, { op: "suspend" }>, s: ExecState, o: ExecOptions): Promise<void> {
  const { port } = o;
  const timeout = i.timeout === "infinity" ? FOREVER : (i.timeout ?? DEFAULT_SUSPEND_TIMEOUT);
  for (const module of i.modules) {
    s.suspendTimeouts.set(module, timeout);
    // A process this script already suspended for another module it uses belongs to this module's
    // suspension too (as in OTP's suspended list): its callback module's code_change must find it.
    // `held`: the module's suspension, the processes this step suspends and the ones it adopts; those
    // (`adopted`, usually none) stay suspended until the undo of the step that suspended them (after their
    // state is back). One array for the fleet, one set for the few adopted.
    const held: Proc[] = [];
    let adopted: Set<Proc> | undefined;
    let already: Set<Proc> | undefined;
    s.suspended.set(module, held);
    s.undo.push(() => {
      for (const p of held) if (!adopted?.has(p)) port.resume(p);
      s.suspended.delete(module);
    });
    // One pass over the module's processes (the runtime's index itself, no copy), in time slices: each is
    // looked at as the pass reaches it; one started while the pass yields is reached too, one that died
    // is not. An idle process suspends at once; only the busy ones are waited for (together, with the
    // timeout). Each wait is handled as it starts (a timeout may fire while the loop yields); the first to
    // fail, in order, fails the step.
    const busy: Promise<{ p: Proc; error: Error } | undefined>[] = [];
    const pass: SuspendPass = {
      procs: port.processesUsing(module)[Symbol.iterator](),
      port,
      timeout,
      slice: s.slice,
      held,
      onBusy: (p, suspended) => void busy.push(suspended.then(() => void held.push(p), (error: Error) => ({ p, error }))),
      onSuspended: (p) => {
        if (!(already ??= othersSuspended(s, module)).has(p) || adopted?.has(p)) return;
        (adopted ??= new Set()).add(p);
        held.push(p);
      },
    };
    while (!suspendSome(pass)) await s.slice.yieldNow();
    const failed = (await Promise.all(busy)).find((r) => r !== undefined);
    if (failed) throw new StepError(failed.error, { module, pid: failed.p.pid });
  }
}

interface SuspendPass {
  procs: Iterator<Proc>;
  port: ExecOptions["port"];
  timeout: number;
  slice: ExecState["slice"];
  held: Proc[];
  onBusy(p: Proc, suspended: Promise<void>): void;
  onSuspended(p: Proc): void;
}

/**
 * One slice of the suspend step's pass: idle processes suspended and held, busy and already suspended
 * ones handed to the step; true once the pass is done, false when the slice is used up. A small
 * synchronous function, so that the engine optimizes the loop over a fleet on its own, early, instead
 * of the whole async step (the pass runs once per upgrade: the first slices would otherwise run as
 * bytecode while the step is being compiled).
 */
function suspendSome(pass: SuspendPass): boolean {
  const { procs, port, timeout, slice, held } = pass;
  for (;;) {
    const next = procs.next();
    if (next.done) return true;
    const p = next.value;
    if (p.status === "running") {
      const suspended = port.suspend(p, timeout);
      if (suspended) pass.onBusy(p, suspended);
      else held.push(p);
    } else if (p.status === "suspended") pass.onSuspended(p);
    if (slice.due()) return false;
  }
}

/** The processes this script suspended for modules other than `module`. */
function othersSuspended(s: ExecState, module: string): Set<Proc> {
  const others = new Set<Proc>();
  for (const [m, procs] of s.suspended) if (m !== module) for (const p of procs) others.add(p);
  return others;
}

/**
 * The undo of a resume: suspend the processes of every module again, all at once, each busy one waited for
 * at most its module's suspend timeout capped at ROLLBACK_WAIT_MS ("infinity" included): the waits run
 * together, so the whole undo takes at most that bound, however many modules and processes it covers.
 */
export async function resuspendStep(resumed: readonly { module: string; procs: readonly Proc[] }[], s: ExecState, o: ExecOptions): Promise<void> {
  const { port } = o;
  const waits: { module: string; p: Proc; timeout: number; suspended: Promise<void> }[] = [];
  for (const { module, procs } of resumed) {
    const timeout = capped(s.suspendTimeouts.get(module) ?? DEFAULT_SUSPEND_TIMEOUT, ROLLBACK_WAIT_MS);
    // An idle process suspends at once; only the busy ones are waited for.
    for (const p of procs) {
      if (p.status !== "running") continue;
      const suspended = port.suspend(p, timeout);
      if (suspended) waits.push({ module, p, timeout, suspended });
    }
  }
  const results = await Promise.allSettled(waits.map(({ suspended }) => suspended));
  results.forEach((r, k) => {
    if (r.status === "fulfilled") return;
    const { module, p, timeout } = waits[k]!;
    port.log("rollback could not suspend a process: its handler on the new code is still running, and the state it ends with may replace the one the rollback puts back", { pid: p.pid, module, timeoutMs: timeout, error: (r.reason as Error).message });
  });
  for (const { module, procs } of resumed) s.suspended.set(module, procs.filter((p) => p.status === "suspended"));
}

/**
 * The `resume` step: dispatch again to the processes suspended for each module, in time slices that yield
 * to the event loop. On rollback they are suspended again (resuspendStep: their handlers in flight waited for, every
 * module's at once), so that restored code and state meet no message first and no handler on the new code
 * writes over them.
 */
export async function resumeStep(i: Extract<Instruction, { op: "resume" }>, s: ExecState, o: ExecOptions): Promise<void> {
  const resumed = i.modules.map((module) => ({ module, procs: s.suspended.get(module) ?? [] }));
  s.undo.push(() => resuspendStep(resumed, s, o));
  for (const { module, procs } of resumed) {
    for (let k = 0; k < procs.length; ) {
      k = resumeSome(o.port, procs, k, s.slice);
      if (k < procs.length) await s.slice.yieldNow();
    }
    s.suspended.delete(module);
  }
}

/** Resume procs[k..] until the slice is used up; returns where it stopped (small and synchronous, as suspendSome). */
function resumeSome(port: ExecOptions["port"], procs: readonly Proc[], k: number, slice: ExecState["slice"]): number {
  while (k < procs.length) {
    port.resume(procs[k++]!);
    if (slice.due()) return k;
  }
  return k;
}
