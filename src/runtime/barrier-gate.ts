/**
 * Where a node's install waits at a barrier point (steps/barrier.ts), and how it is released: the
 * install's connection gets a progress line `{phase: "barrier", barrier: {id, timeoutMs}, waits: true}`,
 * and a `barrier` control request `{barrier: id, decision: "go" | "abort"}`, from any connection, decides.
 * The node's own timer aborts it when no decision comes within the point's timeout (a fleet whose
 * coordinator is gone must not keep a node half-way). An install that nobody decides for (a plain
 * `relup apply`) passes its points at once, and says so: `waits: false`.
 *
 * One install runs at a time, so at most one barrier is held. While it is, an install or rollback
 * asked for on another connection is refused at once (`barrier-held`), rather than queued behind it.
 */
import { RuntimeError } from "./issues/runtime-error.ts";
import { BarrierAbort, type BarrierDecision, type BarrierPoint, type ExecBarriers } from "./steps/barrier.ts";

/** How long a hold before the point of no return waits for a decision when the install names no timeout. */
export const DEFAULT_HOLD_TIMEOUT_MS = 60_000;

/** A progress line of an install at a barrier point, and the decision that came. */
export type BarrierProgress = { phase: "barrier"; barrier: BarrierPoint; waits: boolean } | { phase: "barrier-decided"; id: string; decision: BarrierDecision | "timeout"; waitedMs: number };

interface Held {
  point: BarrierPoint;
  since: number;
  decide: (decision: BarrierDecision) => void;
}

export class BarrierGate {
  #held: Held | undefined;

  constructor(private readonly log: (message: string, fields?: Record<string, unknown>) => void = () => {}) {}

  /**
   * The barriers of one install: with `decides`, each point waits for a `barrier` request (and
   * `holdTimeoutMs` adds the point before the point of no return); without, each passes at once.
   */
  forInstall(progress: (event: BarrierProgress) => void, options: { decides: boolean; holdTimeoutMs?: number }): ExecBarriers {
    return {
      at: (point) => (options.decides ? this.#wait(point, progress) : this.#pass(point, progress)),
      ...(options.holdTimeoutMs !== undefined ? { holdTimeoutMs: options.holdTimeoutMs } : {}),
    };
  }

  /** The barrier held now, if any. */
  held(): (BarrierPoint & { heldMs: number }) | undefined {
    const held = this.#held;
    return held && { ...held.point, heldMs: Math.round(performance.now() - held.since) };
  }

  /** The `barrier` request: decide the point held now, which must be `id`. */
  decide(id: string, decision: BarrierDecision): { barrier: string; decision: BarrierDecision } {
    const held = this.#held;
    if (!held || held.point.id !== id) throw new RuntimeError({ kind: "no-barrier", id, ...(held ? { held: held.point.id } : {}) });
    held.decide(decision);
    return { barrier: id, decision };
  }

  /** Refuse `cmd` (an install or a rollback) while an install holds at a barrier. */
  refuseWhileHeld(cmd: "install" | "rollback"): void {
    const held = this.held();
    if (held) throw new RuntimeError({ kind: "barrier-held", cmd, id: held.id, heldMs: held.heldMs, timeoutMs: held.timeoutMs });
  }

  #pass(point: BarrierPoint, progress: (event: BarrierProgress) => void): Promise<void> {
    progress({ phase: "barrier", barrier: point, waits: false });
    this.log("barrier passed at once: nobody decides for this install", { barrier: point.id });
    return Promise.resolve();
  }

  async #wait(point: BarrierPoint, progress: (event: BarrierProgress) => void): Promise<void> {
    const since = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const decision = await new Promise<BarrierDecision | "timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), point.timeoutMs);
      this.#held = { point, since, decide: resolve };
      this.log("holding at a barrier", { barrier: point.id, timeoutMs: point.timeoutMs });
      progress({ phase: "barrier", barrier: point, waits: true });
    });
    clearTimeout(timer);
    this.#held = undefined;
    const waitedMs = Math.round(performance.now() - since);
    this.log("barrier decided", { barrier: point.id, decision, waitedMs });
    progress({ phase: "barrier-decided", id: point.id, decision, waitedMs });
    if (decision !== "go") throw new BarrierAbort(point, decision === "timeout" ? "timeout" : "abort");
  }
}
