/**
 * The adapter from a running runtime (its process registry, module table, supervisors and application
 * controller) to the RuntimePort the executor runs on. A Node builds one over its own parts; a test builds
 * one over a Runtime made in the test process, with a manual clock and object code read from memory.
 */
import type { AppFile } from "../release/app-file.ts";
import type { ApplicationController } from "./application-controller.ts";
import { exitWithin } from "./bounded-wait.ts";
import { killAll } from "./kill-processes.ts";
import type { ObjectCode } from "./module-table.ts";
import type { PreparedCode } from "./prepare-release.ts";
import type { Proc } from "./process.ts";
import type { RuntimePort } from "./runtime-port.ts";
import { runningOldCode } from "./running-old-code.ts";
import type { Runtime } from "./runtime.ts";
import { captureChildModules, childPids, childrenUsing, retireChildren, undoCodeChange } from "./supervisor.ts";

export interface PortParts {
  runtime: Runtime;
  controller: ApplicationController;
  /** load_object_code: read and compile module `ref` of a release directory */
  readObjectCode: (releaseDir: string, apps: readonly AppFile[], ref: string, prepared?: PreparedCode) => ObjectCode;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export function runtimePort({ runtime, controller, readObjectCode, log }: PortParts): RuntimePort {
  const isSupervisor = (proc: Proc) => proc.behaviour.kind === "supervisor";
  return {
    clock: runtime.clock,
    log,
    readObjectCode,
    modules: runtime.table,
    applications: controller,
    processesUsing: (module) => runtime.usersOf(module),
    suspend: (proc, timeoutMs) => runtime.suspendNow(proc, timeoutMs),
    resume: (proc) => runtime.resume(proc),
    runningOldCode: (module) => runningOldCode(runtime, module),
    kill: (doomed, onKilled) => killAll(runtime, doomed, onKilled),
    codeChange: (proc, vsn, extra, timeout) => runtime.codeChangeNow(proc, vsn, extra, timeout),
    saveState: (proc) => proc.state,
    // Every other process's state first, then each supervisor's, which may stop the children its code change started.
    async restoreStates(procs, saved) {
      const supervisors: number[] = [];
      for (let j = 0; j < saved.length; j++) {
        if (isSupervisor(procs[j]!)) supervisors.push(j);
        else procs[j]!.state = saved[j];
      }
      for (const j of supervisors) await undoCodeChange(runtime, procs[j]!, saved[j]);
    },
    childrenUsing: (module) => childrenUsing(runtime, module),
    terminateChild: async (sup, id, timeoutMs) => void (await runtime.call(sup, { op: "terminate_child", id }, timeoutMs)),
    restartChild: async (sup, id, timeoutMs) => void (await runtime.call(sup, { op: "restart_child", id }, timeoutMs)),
    // Asked of the supervisor itself, behind whatever it is still doing (a terminate in flight).
    async restoreChild(sup, id, timeoutMs) {
      const children = (await runtime.call(sup, { op: "which_children" }, timeoutMs)) as { id: string }[];
      if (children.some((c) => c.id === id)) await runtime.call(sup, { op: "restart_child", id }, timeoutMs);
    },
    childPids: (proc) => (isSupervisor(proc) ? childPids(proc) : undefined),
    captureChildModules: (sup) => captureChildModules(runtime, sup),
    async stopWithin(pids, ms) {
      const procs = pids.map((pid) => runtime.get(pid)).filter((p) => p !== undefined);
      const outcomes = await Promise.all(procs.map((proc) => exitWithin(runtime, proc, "shutdown", ms)));
      return procs.filter((_, k) => outcomes[k] === "killed");
    },
    retireChildren: (sup) => retireChildren(runtime, sup),
  };
}
