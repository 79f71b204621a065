/**
 * Barrier points of an install: each `sync_nodes` instruction of the plan, and, when the install asks
 * to hold (`hold: "point_of_no_return"`, a fleet rollout's prepare), one just before the plan's
 * point_of_no_return, named `point_of_no_return`. At a barrier point the executor waits for whoever runs
 * the install to decide: `go` goes on; `abort`, or no decision within the point's timeout, fails the
 * install there and rolls it back in memory like any failed step (before the point of no return nothing
 * running had changed yet). How the node waits and who decides is the BarrierGate's (barrier-gate.ts);
 * an install that nobody decides for passes its sync_nodes points at once.
 */
import { RuntimeError } from "../issues/runtime-error.ts";
import type { ProcessRef } from "./purge.ts";

/** The barrier point the install holds at before its point_of_no_return. */
export const HOLD_POINT = "point_of_no_return";

export interface BarrierPoint {
  id: string;
  /** how long the node waits for a decision before it aborts by itself (ms) */
  timeoutMs: number;
}

export type BarrierDecision = "go" | "abort";

export interface ExecBarriers {
  /** wait at `point`: resolves on go, rejects with BarrierAbort on abort or timeout */
  at(point: BarrierPoint): Promise<void>;
  /** hold before the plan's point_of_no_return too, for at most this long (ms) */
  holdTimeoutMs?: number;
}

/** The installs that held already (a restart plan holds before restart_new_emulator, not again after it). */
const held = new WeakSet<ExecBarriers>();

/**
 * An install that asked to hold waits here, once: before the first step that changes the node, which is
 * point_of_no_return, or restart_new_emulator in a plan that restarts the node (it comes first).
 */
export async function holdBeforeChange(barriers: ExecBarriers | undefined): Promise<void> {
  if (barriers?.holdTimeoutMs === undefined || held.has(barriers)) return;
  held.add(barriers);
  await barriers.at({ id: HOLD_POINT, timeoutMs: barriers.holdTimeoutMs });
}

/** The point_of_no_return step: from here the running code changes; an install that holds waits here first. */
export async function pointOfNoReturnStep(s: { passedPointOfNoReturn: boolean }, barriers: ExecBarriers | undefined): Promise<void> {
  await holdBeforeChange(barriers);
  s.passedPointOfNoReturn = true;
}

/** A barrier point that did not get `go`: the executor rolls back and reports it as `barrier-aborted`. */
export class BarrierAbort extends Error {
  constructor(
    readonly point: BarrierPoint,
    readonly reason: "abort" | "timeout",
  ) {
    super(reason === "abort" ? `barrier ${point.id} was aborted` : `barrier ${point.id}: no decision within ${point.timeoutMs} ms`);
  }

  /** The issue of the install this abort failed, once it was rolled back. */
  failed(index: number, phase: "before-point-of-no-return" | "after-point-of-no-return", killed: readonly ProcessRef[], rollbackFailures: readonly string[]): RuntimeError {
    return new RuntimeError({ kind: "barrier-aborted", id: this.point.id, reason: this.reason, timeoutMs: this.point.timeoutMs, index, phase, killed: killed.map((p) => ({ ...p })), rollbackFailures: [...rollbackFailures] });
  }
}
