/**
 * The live processes of a module that still run its old code (what a purge kills).
 */
import type { Proc } from "./process.ts";
import type { Runtime } from "./runtime.ts";

/**
 * The live processes whose callback module is `module` and that run its old code: all of them once the
 * module is removed (they keep running it until a purge), otherwise those with a handler in flight on
 * the old version.
 */
export function runningOldCode(runtime: Runtime, module: string): Proc[] {
  const old = runtime.table.old(module);
  if (!old) return [];
  const removed = runtime.table.isRemoved(module);
  return runtime.processesUsing(module).filter((p) => p.module === module && (removed || p.running === old));
}
