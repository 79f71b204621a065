/**
 * Which live processes the purges of a script will find still running code they drop, worked out before
 * step one (OTP's check_install_release runs check_old_processes the same way): the install's preflight
 * refuses a plan whose soft purge would find any (nothing has changed then), and `apply --dry-run`
 * and `apply` list the ones a brutal purge will kill.
 *
 * The script is walked without running it. Processes the plan stops before the purge are left out: the
 * supervised children a `stop` step terminates (and everything under them), and the processes of an
 * application an `apply application.stop` step stops. What remains is every process whose callback module
 * is the purged module: the unsupervised ones, and children of supervisors the plan does not stop.
 */
import type { PurgeMethod } from "../appup/instruction.ts";
import { assertNever } from "../errors.ts";
import type { Instruction } from "../relup/instruction.ts";
import type { Node } from "./node.ts";
import { parsePid, type Pid, type ProcId } from "./process.ts";
import { runningOldCode } from "./running-old-code.ts";
import { processRef, type ProcessRef } from "./steps/purge.ts";
import { childrenUsing, supervisedTree } from "./supervisor.ts";

export interface PurgeForecast {
  /** the module whose code is purged */
  module: string;
  /** the step (0-based) of the purge */
  step: number;
  method: PurgeMethod;
  /** soft: "processes" make the step refuse; brutal: they are killed */
  processes: ProcessRef[];
}

export function forecastPurges(script: readonly Instruction[], node: Node): PurgeForecast[] {
  const { runtime, table, controller } = node;
  const stopped = new Set<ProcId>();
  const removed = new Map<string, PurgeMethod>();
  const out: PurgeForecast[] = [];
  const stopTree = (pid: ProcId | Pid | null | undefined) => {
    const proc = pid === null || pid === undefined ? undefined : runtime.get(pid);
    if (proc) for (const p of supervisedTree(runtime, proc.id)) stopped.add(p);
  };
  const found = (module: string, step: number, method: PurgeMethod, procs: ProcessRef[]) => {
    const left = procs.filter((p) => !stopped.has(parsePid(p.pid)!));
    if (left.length > 0) out.push({ module, step, method, processes: left });
  };
  script.forEach((i, n) => {
    switch (i.op) {
      case "stop":
        for (const m of i.modules) for (const child of childrenUsing(runtime, m)) stopTree(child.pid);
        return;
      case "apply":
        if (i.module === "application" && i.function === "stop") stopTree(controller.list().find((a) => a.name === i.args[0])?.top);
        return;
      case "load":
      case "remove":
        // The old version an earlier install left is pre-purged; a handler in flight on it blocks a soft one.
        if (table.old(i.module) && (i.prePurge === "soft_purge" || table.isRemoved(i.module))) {
          found(i.module, n, i.prePurge, runningOldCode(runtime, i.module).map(processRef));
        }
        if (i.op === "remove") removed.set(i.module, i.postPurge);
        return;
      case "purge":
        for (const m of i.modules) {
          const method = removed.get(m);
          // Removed by this script: every process whose callback module it is still runs it at the purge.
          if (method) found(m, n, method, runtime.processesUsing(m).filter((p) => p.module === m).map(processRef));
          else if (table.isRemoved(m)) found(m, n, "brutal_purge", runningOldCode(runtime, m).map(processRef));
        }
        return;
      case "restart_new_emulator":
      case "load_object_code":
      case "point_of_no_return":
      case "suspend":
      case "resume":
      case "code_change":
      case "start":
      case "sync_nodes":
        // Nothing here stops a process or drops code (a start restarts children the plan stopped).
        return;
      default:
        return assertNever(i);
    }
  });
  return out;
}
