/**
 * The steps that change which code a module has (release_handler_1's load, remove and purge clauses), and
 * what happens to the processes that still run the code they drop.
 *
 *   load     pre-purge the old version an earlier install left (soft: refused while a handler runs it),
 *            then make the staged code current; the previous current version becomes old
 *   remove   pre-purge likewise, then make the current version old and empty the namespace. Processes
 *            whose callback module it is keep running the old code (their calls are answered, their
 *            terminate can still run), as in OTP, until the purge; the remove's postPurge says how that
 *            purge treats them
 *   purge    drop the old version. For a removed module, the processes still running it are first
 *            checked (soft_purge: any of them refuses the step, and the install rolls back with nothing
 *            killed) and then killed, all of them before any code is dropped (brutal_purge: exit reason
 *            `killed`, links and monitors told; a supervised child is first deleted from its supervisor,
 *            spec and all, as OTP's terminate_child + delete_child, so that no restart retries it)
 *
 * A killed process's state cannot be brought back by a rollback (a killed supervised child gets its spec
 * back and is started again, fresh), so generated plans purge removed modules in the last step, which the
 * executor runs after the commit, when nothing else can fail, and the install's preflight lists (brutal) or refuses
 * (soft) the processes a purge would find (purge-forecast.ts). Old code left by an earlier load is only
 * dropped: a handler in flight on it keeps the closures it holds, and killing its process would not stop
 * it (a JavaScript promise runs to its end), so no process is killed for it.
 */
import type { PurgeMethod } from "../../appup/instruction.ts";
import type { Instruction } from "../../relup/instruction.ts";
import { describeProcesses, processRef, waitForKills, type ProcessRef } from "../kill-processes.ts";
import type { ObjectCode } from "../module-table.ts";
import type { RuntimePort } from "../runtime-port.ts";
import { StepError, wrap } from "./step-error.ts";

// The release handler (a release made permanent) and the purge forecast use these on the runtime itself.
export { describeProcesses, killAll, processRef, waitForKills, type Kills, type ProcessRef } from "../kill-processes.ts";

/** The part of the executor's state these steps read and write. */
export interface CodeState {
  staged: Map<string, ObjectCode>;
  replacedVsn: Map<string, string | number>;
  /** module → the postPurge of the remove that took it out in this script: how its purge treats processes */
  removed: Map<string, PurgeMethod>;
  undo: (() => Promise<unknown> | unknown)[];
  /** undo entries that start something again: run after every other undo (see the executor's rollback) */
  restarts: (() => Promise<unknown> | unknown)[];
  /** every process a purge of this script killed */
  killed: ProcessRef[];
}

export interface CodeOptions {
  port: RuntimePort;
  /** told of every process a purge kills */
  onKilled?: (module: string, process: ProcessRef) => void;
}

type Load = Extract<Instruction, { op: "load" }>;
type Remove = Extract<Instruction, { op: "remove" }>;
type Purge = Extract<Instruction, { op: "purge" }>;

export async function loadStep(i: Load, s: CodeState, o: CodeOptions): Promise<void> {
  const table = o.port.modules;
  const code = s.staged.get(i.module);
  if (!code) throw new StepError(new Error("no object code was read for it (load_object_code)"), { module: i.module });
  const snapshot = table.snapshot(i.module);
  s.undo.push(() => table.restore(snapshot));
  await prePurge(i.module, i.prePurge, s, o);
  wrap({ module: i.module }, () => {
    const previous = table.current(i.module);
    if (previous) s.replacedVsn.set(i.module, previous.vsn);
    table.load(code);
  });
}

export async function removeStep(i: Remove, s: CodeState, o: CodeOptions): Promise<void> {
  const table = o.port.modules;
  const snapshot = table.snapshot(i.module);
  s.undo.push(() => table.restore(snapshot));
  await prePurge(i.module, i.prePurge, s, o);
  wrap({ module: i.module }, () => table.remove(i.module));
  s.removed.set(i.module, i.postPurge);
  s.undo.push(() => void s.removed.delete(i.module));
}

/** Every module is checked before anything is dropped or killed, so a refusal leaves all of them as they were. */
export async function purgeStep(i: Purge, s: CodeState, o: CodeOptions): Promise<void> {
  // OTP's purge is always brutal; here a module removed by this script is purged as its remove says.
  const methods = i.modules.map((module) => s.removed.get(module) ?? "brutal_purge");
  i.modules.forEach((module, k) => {
    if (methods[k] === "soft_purge") refuseIfRunning(o.port, module);
  });
  await purgeModules(i.modules, methods, s, o);
}

/** Before a load or a remove: the old version an earlier install left goes, with the instruction's prePurge. */
async function prePurge(module: string, method: PurgeMethod, s: CodeState, o: CodeOptions): Promise<void> {
  if (!o.port.modules.old(module)) return;
  if (method === "soft_purge") refuseIfRunning(o.port, module);
  await purgeModules([module], [method], s, o);
}

/**
 * Every process still running a removed module among `modules` dies first, all at once, and only then is
 * any code dropped: no doomed process handles a message without its code in between.
 */
async function purgeModules(modules: readonly string[], methods: readonly PurgeMethod[], s: CodeState, o: CodeOptions): Promise<void> {
  const { port } = o;
  const table = port.modules;
  // Only a removed module leaves processes without code: they are the ones killed.
  const kills = port.kill(new Map(modules.map((m) => [m, table.isRemoved(m) ? port.runningOldCode(m) : []])), o.onKilled);
  if (kills.killed.length > 0) {
    s.killed.push(...kills.killed);
    s.undo.push(() => port.log("rollback cannot bring back the state of processes killed at a purge", { processes: describeProcesses(kills.killed) }));
    // A killed child's spec goes back to its supervisor, which starts it again once the old code, states
    // and env are back (a restart, run after every other undo).
    for (const child of kills.detached) {
      s.undo.push(child.reattach);
      s.restarts.push(child.restart);
    }
  }
  modules.forEach((module, k) => {
    const snapshot = table.snapshot(module);
    wrap({ module }, () => table.purge(module, methods[k] === "soft_purge" ? "soft" : "brutal"));
    s.undo.push(() => table.restore(snapshot));
  });
  await waitForKills(kills, port);
}

function refuseIfRunning(port: RuntimePort, module: string): void {
  const running = port.runningOldCode(module);
  if (running.length === 0) return;
  const one = running.length === 1;
  const what = port.modules.isRemoved(module) ? `still run${one ? "s" : ""} it (it was removed)` : `ha${one ? "s" : "ve"} a handler in flight on its old code`;
  throw new StepError(
    new Error(`soft_purge of ${module} refused: ${running.length} process${one ? "" : "es"} ${what}: ${describeProcesses(running.map(processRef))}. Fix: stop them first (a stop step or their application's stop), or purge with brutal_purge to kill them`),
    { module, pid: running[0]!.pid },
  );
}
