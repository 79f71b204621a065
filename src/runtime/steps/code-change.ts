/**
 * The `code_change` step: in every process suspended for each module, run its codeChange, in time slices
 * that yield to the event loop so that the rest of the node keeps serving (time-slice.ts).
 *
 * Each process's migration must settle within the module's timeout: the install's override
 * (`relup apply --code-change-timeout`), else the `timeout` the plan gives the module, else 5 s (OTP's
 * default). On expiry the step fails naming the module and the process, the install rolls back, and what
 * the abandoned migration settles with later is ignored (see Runtime.codeChangeNow). A supervisor's code
 * change is async when its new specs start children: abandoned, it stops the children it started (its
 * behaviour's abandonCodeChange), since the undo below that would stop them is pushed only on success. A synchronous
 * migration cannot be interrupted from inside the node: one that never returns is caught by the
 * launcher's watchdog, which restarts the node on its permanent release.
 */
import type { Instruction } from "../../relup/instruction.ts";
import type { Json } from "../../release/names.ts";
import { StepError } from "./step-error.ts";
import type { ExecOptions, ExecState, ExecTarget } from "../executor.ts";
import { CodeChangeTimeout, type Proc, type ProcId } from "../process.ts";
import { DEFAULT_CODE_CHANGE_TIMEOUT, type Timeout } from "../runtime.ts";
import { ROLLBACK_WAIT_MS } from "../bounded-wait.ts";
import type { SavedState } from "../runtime-port.ts";

export async function codeChangeStep(i: Extract<Instruction, { op: "code_change" }>, s: ExecState, o: ExecOptions): Promise<void> {
  for (const { module, extra, timeout } of i.modules) await migrate(module, extra, i.mode, o.codeChangeTimeout ?? timeout ?? DEFAULT_CODE_CHANGE_TIMEOUT, s, o);
}

async function migrate(module: string, extra: Json, mode: "up" | "down", timeout: Timeout, s: ExecState, o: ExecOptions): Promise<void> {
  const { port } = o;
  // Only the processes whose callback module this is: a process suspended because it declares the
  // module in its `modules` keeps its state shape, which its own callback module's code_change migrates.
  // Those are skipped as the loop reaches them (a pass of its own over a million processes, to find
  // them first, held the event loop for 17 ms).
  const procs = s.suspended.get(module) ?? [];
  const vsn = mode === "up" ? (s.replacedVsn.get(module) ?? port.modules.current(module)?.vsn) : { down: targetVsn(o.target, module) };
  // One undo entry for the whole fleet (a closure per process costs a million allocations at 1M processes):
  // the states of the processes reached so far go back. A supervisor's own undo (stopping the children its
  // code change started) is pushed later, so it runs first. A supervisor's state goes back through the
  // supervisor (the port's restoreStates): its old specs, with its children's live facts as they are now.
  // `reached` is kept only once a process was skipped: until then the processes reached are procs' first ones.
  const run: MigrationRun = { procs, module, vsn, extra, timeout, port, slice: s.slice, before: [], reached: undefined, skipped: 0, k: 0, pending: undefined, due: undefined };
  s.undo.push(() => port.restoreStates(run.reached ?? procs.slice(0, run.before.length), run.before));
  const failure = (proc: Proc, error: unknown) => {
    const fix = error instanceof CodeChangeTimeout ? "; the install is rolled back and a late result is ignored. Fix: make codeChange settle sooner, or give the module a longer codeChangeTimeout in its appup or `relup apply --code-change-timeout <ms>`" : "";
    const total = run.skipped === 0 && !procs.some((p) => p.module !== module) ? procs.length : procs.filter((p) => p.module === module).length;
    // How far the migration got: the processes before this one were migrated (the rollback puts them back).
    o.progress?.({ phase: "code_change", module, done: run.before.length - 1, total });
    return new StepError(new Error(`codeChange failed for process ${run.before.length} of ${total}: ${(error as Error).message}${fix}`), { module, pid: proc.pid });
  };
  while (run.k < procs.length) {
    run.due = undefined;
    try {
      migrateSome(run);
    } catch (error) {
      throw failure(procs[run.k]!, error);
    }
    const pending = run.pending;
    if (pending) {
      // An async migration: waited for here, then the pass goes on.
      run.pending = undefined;
      try {
        await pending;
      } catch (error) {
        throw failure(procs[run.k - 1]!, error);
      }
      if (run.k < procs.length && s.slice.due()) run.due = "migrated";
    } else if (run.due === undefined && run.k < procs.length) {
      // migrateSome stopped before a supervisor: its code change starts and stops children, so it runs here.
      const proc = procs[run.k++]!;
      run.before.push(port.saveState(proc));
      run.reached?.push(proc);
      try {
        const children = port.childPids(proc)!;
        // The kept children get back the modules their old specs listed (pushed first, so it also runs
        // when the code change fails part way).
        s.undo.push(port.captureChildModules(proc));
        const started = port.codeChange(proc, vsn, extra, timeout);
        if (started) await started;
        // Undone before the state is put back: the children this code change started are stopped.
        const added = port.childPids(proc)!.filter((p) => !children.includes(p));
        s.undo.push(() => stopStarted(o, added));
        s.supervisorsChanged.push(proc);
      } catch (error) {
        throw failure(proc, error);
      }
      if (run.k < procs.length && s.slice.due()) run.due = "migrated";
    }
    if (run.due !== undefined) {
      // Progress at each yield after a migration (the total leaves out the processes skipped so far).
      if (run.due === "migrated") o.progress?.({ phase: "code_change", module, done: run.before.length, total: procs.length - run.skipped });
      await s.slice.yieldNow();
    }
  }
  if (run.before.length > 0) o.progress?.({ phase: "code_change", module, done: run.before.length, total: run.before.length });
}

/** The code_change step's pass over one module's suspended processes. */
interface MigrationRun {
  procs: readonly Proc[];
  module: string;
  vsn: unknown;
  extra: Json;
  timeout: Timeout;
  port: ExecOptions["port"];
  slice: ExecState["slice"];
  /** the states of the processes reached, in order (the undo puts them back) */
  before: SavedState[];
  /** the processes reached, kept once one was skipped */
  reached: Proc[] | undefined;
  skipped: number;
  /** the next process to look at */
  k: number;
  /** the async migration of procs[k - 1], to be waited for */
  pending: Promise<void> | undefined;
  /** the slice is used up: after a migration, or after a skipped process */
  due: "migrated" | "skipped" | undefined;
}

/**
 * Migrate procs[k..] synchronously until one needs more: an async migration (left in `pending`), a
 * supervisor (stops before it), or the end of the slice (`due`). A migration that throws is thrown, with
 * `k` at its process. A small synchronous function, so that the engine optimizes the loop over a fleet on
 * its own, early (the pass runs once per upgrade; inside the async step the first slices would run as
 * bytecode while the whole step is being compiled).
 */
function migrateSome(run: MigrationRun): void {
  const { procs, module, port, slice, before } = run;
  while (run.k < procs.length) {
    const proc = procs[run.k]!;
    // Only the processes whose callback module this is: a process suspended because it declares the
    // module in its `modules` keeps its state shape, which its own callback module's code_change migrates.
    if (proc.module !== module) {
      run.reached ??= procs.slice(0, run.k);
      run.skipped++;
      run.k++;
      if (slice.due()) {
        run.due = "skipped";
        return;
      }
      continue;
    }
    if (port.childPids(proc) !== undefined) return;
    before.push(port.saveState(proc));
    run.reached?.push(proc);
    const pending = port.codeChange(proc, run.vsn, run.extra, run.timeout);
    run.k++;
    if (pending) {
      run.pending = pending;
      return;
    }
    if (run.k < procs.length && slice.due()) {
      run.due = "migrated";
      return;
    }
  }
}

/**
 * Undo: stop the children a supervisor's code change started, together, each given ROLLBACK_WAIT_MS for
 * its terminate and then killed (a rollback never hangs on a terminate that does not return).
 */
async function stopStarted(o: ExecOptions, pids: readonly ProcId[]): Promise<void> {
  for (const proc of await o.port.stopWithin(pids, ROLLBACK_WAIT_MS)) o.port.log("rollback killed a child its supervisor's code change had started: its terminate did not return in time", { pid: proc.pid, module: proc.module, timeoutMs: ROLLBACK_WAIT_MS });
}

function targetVsn(target: ExecTarget, module: string): string | number | undefined {
  const [app, ...rest] = module.split("/");
  return target.apps.find((a) => a.name === app)?.modules.find((m) => m.name === rest.join("/"))?.vsn;
}
