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
 *            killed) and then killed (brutal_purge: exit reason `killed`, links and monitors told; a
 *            supervised child through its supervisor, which does not restart it)
 *
 * A killed process cannot be brought back by a rollback, so generated plans purge removed modules in
 * the last step, when nothing can fail any more, and the install's preflight lists (brutal) or refuses
 * (soft) the processes a purge would find (purge-forecast.ts). Old code left by an earlier load is only
 * dropped: a handler in flight on it keeps the closures it holds, and killing its process would not stop
 * it (a JavaScript promise runs to its end), so no process is killed for it.
 */
import type { PurgeMethod } from "../../appup/instruction.ts";
import type { Instruction } from "../../relup/instruction.ts";
import type { ModuleTable, ObjectCode } from "../module-table.ts";
import type { Node } from "../node.ts";
import type { Pid, Proc } from "../process.ts";
import type { Runtime } from "../runtime.ts";
import { childrenUsing, killChild } from "../supervisor.ts";
import { StepError, wrap } from "./step-error.ts";

/** A process by pid, registered name and callback module, as reports name it. */
export interface ProcessRef {
  pid: Pid;
  name: string | null;
  module: string;
}

export const processRef = (p: Proc): ProcessRef => ({ pid: p.pid, name: p.name ?? null, module: p.module });

/** "<0.7.0> (loner), <0.9.0>" */
export const describeProcesses = (procs: readonly ProcessRef[]): string => procs.map((p) => `${p.pid}${p.name !== null ? ` (${p.name})` : ""}`).join(", ");

/** The part of the executor's state these steps read and write. */
export interface CodeState {
  staged: Map<string, ObjectCode>;
  replacedVsn: Map<string, string | number>;
  /** module → the postPurge of the remove that took it out in this script: how its purge treats processes */
  removed: Map<string, PurgeMethod>;
  undo: (() => Promise<unknown> | unknown)[];
}

export interface CodeOptions {
  node: Node;
  /** told of every process a purge kills */
  onKilled?: (module: string, process: ProcessRef) => void;
}

type Load = Extract<Instruction, { op: "load" }>;
type Remove = Extract<Instruction, { op: "remove" }>;
type Purge = Extract<Instruction, { op: "purge" }>;

export async function loadStep(i: Load, s: CodeState, o: CodeOptions): Promise<void> {
  const { table } = o.node;
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
  const { table } = o.node;
  const snapshot = table.snapshot(i.module);
  s.undo.push(() => table.restore(snapshot));
  await prePurge(i.module, i.prePurge, s, o);
  wrap({ module: i.module }, () => table.remove(i.module));
  s.removed.set(i.module, i.postPurge);
  s.undo.push(() => void s.removed.delete(i.module));
}

/** Every module is checked before anything is dropped or killed, so a refusal leaves all of them as they were. */
export async function purgeStep(i: Purge, s: CodeState, o: CodeOptions): Promise<void> {
  const { table, runtime } = o.node;
  // OTP's purge is always brutal; here a module removed by this script is purged as its remove says.
  const methods = i.modules.map((module) => s.removed.get(module) ?? "brutal_purge");
  i.modules.forEach((module, k) => {
    if (methods[k] === "soft_purge") refuseIfRunning(runtime, table, module);
  });
  for (const [k, module] of i.modules.entries()) await purgeModule(module, methods[k]!, s, o);
}

/** Before a load or a remove: the old version an earlier install left goes, with the instruction's prePurge. */
async function prePurge(module: string, method: PurgeMethod, s: CodeState, o: CodeOptions): Promise<void> {
  if (!o.node.table.old(module)) return;
  if (method === "soft_purge") refuseIfRunning(o.node.runtime, o.node.table, module);
  await purgeModule(module, method, s, o);
}

async function purgeModule(module: string, method: PurgeMethod, s: CodeState, o: CodeOptions): Promise<void> {
  const { table, runtime } = o.node;
  const snapshot = table.snapshot(module);
  // Only a removed module leaves processes without code: they are the ones killed.
  const doomed = table.isRemoved(module) ? runtime.runningOldCode(module) : [];
  wrap({ module }, () => table.purge(module, method === "soft_purge" ? "soft" : "brutal"));
  s.undo.push(() => table.restore(snapshot));
  await killAll(runtime, module, doomed, o);
  if (doomed.length > 0) {
    s.undo.push(() => o.node.log("rollback cannot bring back processes killed at a purge", { module, processes: describeProcesses(doomed.map(processRef)) }));
  }
}

/** Kill the processes still running `module` (exit reason `killed`); returns who was killed. */
export async function killAll(runtime: Runtime, module: string, procs: readonly Proc[], o: Pick<CodeOptions, "onKilled"> = {}): Promise<ProcessRef[]> {
  const killed: ProcessRef[] = [];
  if (procs.length === 0) return killed;
  const supervised = new Map(childrenUsing(runtime, module).flatMap((c) => (c.pid ? [[c.pid, c] as const] : [])));
  for (const p of procs) {
    if (p.status === "dead") continue;
    const ref = processRef(p);
    // A supervised child is killed through its supervisor, which then does not restart it: there is no
    // code left to restart it with. Any other process is killed directly.
    const child = supervised.get(p.pid);
    if (child && runtime.get(child.sup)) await killChild(runtime, child.sup, child.id);
    else await runtime.exit(p, "kill");
    killed.push(ref);
    o.onKilled?.(module, ref);
  }
  return killed;
}

function refuseIfRunning(runtime: Runtime, table: ModuleTable, module: string): void {
  const running = runtime.runningOldCode(module);
  if (running.length === 0) return;
  const one = running.length === 1;
  const what = table.isRemoved(module) ? `still run${one ? "s" : ""} it (it was removed)` : `ha${one ? "s" : "ve"} a handler in flight on its old code`;
  throw new StepError(
    new Error(`soft_purge of ${module} refused: ${running.length} process${one ? "" : "es"} ${what}: ${describeProcesses(running.map(processRef))}. Fix: stop them first (a stop step or their application's stop), or purge with brutal_purge to kill them`),
    { module, pid: running[0]!.pid },
  );
}
