/**
 * The `stop` and `start` steps: every supervised child whose spec uses one of the modules is terminated
 * (terminate_child) or started again (restart_child) through its supervisor.
 *
 * A terminate may take as long as the child's `shutdown` allows (its terminate callback runs, then it is
 * killed): the call to the supervisor waits that long plus the ordinary call timeout, without limit for
 * `infinity`, the ordinary timeout for `brutal_kill`. Each undo is recorded before its call is made, so
 * that a call that fails part way is undone too:
 *   stop   a child that was running is started again (restart_child, which does nothing to a running
 *          child) as a restart: after the old code, states and env are back (see the executor's rollback).
 *          A child its supervisor no longer has by then (one a code change being rolled back had started,
 *          dropped with that code change's specs) stays gone
 *   start  only the children this step started are terminated; those already running are left alone
 */
import type { SupervisedChild } from "../runtime-port.ts";
import { DEFAULT_CALL_TIMEOUT } from "../runtime.ts";
import type { ExecOptions, ExecState } from "../executor.ts";
import { MAX_TIMEOUT_MS } from "../../appup/instruction.ts";

/** How long a terminate_child call may take for a child with this shutdown. */
export function terminateTimeout(shutdown: SupervisedChild["shutdown"]): number {
  // "infinity" waits as long as a timer can; a shutdown near that limit must not overflow it (above
  // 2^31−1 ms Node fires the timer after 1 ms, which would fail the call at once).
  if (shutdown === "infinity") return MAX_TIMEOUT_MS;
  if (shutdown === "brutal_kill") return DEFAULT_CALL_TIMEOUT;
  return Math.min(MAX_TIMEOUT_MS, shutdown + DEFAULT_CALL_TIMEOUT);
}

export async function stopOrStartStep(op: "stop" | "start", modules: readonly string[], s: ExecState, o: ExecOptions): Promise<void> {
  const { port } = o;
  for (const module of modules) {
    for (const { sup, id, pid, shutdown } of port.childrenUsing(module)) {
      // The supervisor handles one request at a time: a restart queued behind a terminate waits for it.
      const timeout = terminateTimeout(shutdown);
      if (op === "stop") {
        if (pid !== undefined) s.restarts.push(() => port.restoreChild(sup, id, timeout));
        await port.terminateChild(sup, id, timeout);
      } else {
        if (pid === undefined) s.undo.push(() => port.terminateChild(sup, id, timeout));
        await port.restartChild(sup, id, timeout);
      }
    }
  }
}
