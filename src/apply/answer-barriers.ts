/**
 * The client's side of an install's barrier points (src/runtime/barrier-gate.ts): what the install
 * request asks for, and the progress handler that answers each point the node holds at with the
 * caller's decision, sent as a `barrier` control request on a connection of its own.
 */
import { controlRequest } from "../runtime/control-client.ts";
import type { Progress } from "../runtime/executor.ts";
import { HOLD_POINT } from "../runtime/steps/barrier.ts";
import type { ApplyOptions } from "./apply-release.ts";

/** The install request's fields for `barrier`: the client decides, and holds before the point of no return if asked. */
export function barrierRequest(barrier: ApplyOptions["barrier"]): { decideBarriers?: true; hold?: typeof HOLD_POINT; holdTimeoutMs?: number } {
  if (!barrier) return {};
  return { decideBarriers: true, ...(barrier.hold ? { hold: HOLD_POINT, ...(barrier.holdTimeoutMs !== undefined ? { holdTimeoutMs: barrier.holdTimeoutMs } : {}) } : {}) };
}

/**
 * The install's progress handler: passes every event on, and answers each barrier point the node holds
 * at. A decide that fails sends abort. A decision the node no longer takes (the point timed out
 * meanwhile) is left to the install's answer, which says how it ended.
 */
export function answerBarriers(root: string, options: Pick<ApplyOptions, "barrier" | "progress" | "note">): (event: Progress) => void {
  return (event) => {
    options.progress?.(event);
    if (event.phase !== "barrier") return;
    const { barrier: point, waits } = event;
    if (!waits) {
      options.note?.(`barrier ${point.id} (sync_nodes) released at once: a plain apply has no other nodes to wait for (a fleet rollout synchronises its wave there)`);
      return;
    }
    const decide = options.barrier?.decide;
    if (!decide) return;
    void decide(point)
      .catch((error: unknown) => {
        options.note?.(`barrier ${point.id}: deciding failed (${error instanceof Error ? error.message : String(error)}): abort`);
        return "abort" as const;
      })
      .then((decision) => controlRequest(root, { cmd: "barrier", barrier: point.id, decision }, { timeout: 10_000 }))
      .catch((error: unknown) => options.note?.(`barrier ${point.id}: the decision was not taken (${error instanceof Error ? error.message : String(error)})`));
  };
}
