/**
 * `states` on the control socket: copies of the states of the processes whose callback module is one of
 * `modules`, for `relup verify --live`. Each state is written with v8.serialize (Maps, Sets, Dates and
 * typed arrays survive; functions and handles do not, and such a state is reported instead of copied).
 * Reading a state changes nothing: the processes keep running and their states are not touched.
 */
import v8 from "node:v8";
import type { Runtime } from "./runtime.ts";

export type LiveProcessState = { pid: string; name: string | null; module: string; state: string } | { pid: string; name: string | null; module: string; error: string };

export interface LiveStatesResult {
  release: { name: string; version: string };
  processes: LiveProcessState[];
}

/** Copies per process; yields to the event loop every `chunk` processes so the node keeps serving. */
export async function copyStates(runtime: Runtime, modules: readonly string[], chunk = 1000): Promise<LiveProcessState[]> {
  const procs = [...new Set(modules)].flatMap((module) => runtime.processesUsing(module).filter((p) => p.module === module));
  const out: LiveProcessState[] = [];
  for (let k = 0; k < procs.length; k++) {
    const p = procs[k]!;
    const base = { pid: p.pid, name: p.name ?? null, module: p.module };
    try {
      out.push({ ...base, state: v8.serialize(p.state).toString("base64") });
    } catch (error) {
      out.push({ ...base, error: `its state cannot be copied: ${(error as Error).message}` });
    }
    if ((k + 1) % chunk === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}
