/**
 * A node's side of its wave's barrier (rollout-record.ts, `RolloutWave.barrier`): the node holds at a
 * barrier point of its install (before the plan's point of no return with --barrier, or at a sync_nodes
 * instruction), its agent reports `prepared` with the point's id, and the decision comes from the rollout
 * record: the wave's barrier `go` (for this point, when the wave names one in `barrierId`) → go; `abort`,
 * the wave aborted or failed, the rollout no longer running, or another rollout → abort. No decision
 * within the point's timeout (the driver is gone, or etcd is down) → abort: nothing changed on the node.
 */
import type { RolloutRecord } from "./rollout-record.ts";

export interface BarrierPoint {
  id: string;
  timeoutMs: number;
}

export interface BarrierDecision {
  decision: "go" | "abort";
  reason: string;
}

export class WaveBarrier {
  #rollout: RolloutRecord | undefined;
  #waiting: { point: BarrierPoint; resolve: (decision: BarrierDecision) => void; timer: NodeJS.Timeout } | undefined;

  constructor(
    readonly rolloutId: string,
    readonly wave: number,
    rollout: RolloutRecord,
  ) {
    this.#rollout = rollout;
  }

  /** The group's rollout record changed (or was deleted): a held point may be decided now. */
  update(rollout: RolloutRecord | undefined): void {
    this.#rollout = rollout;
    const waiting = this.#waiting;
    if (!waiting) return;
    const decided = this.#decision(waiting.point);
    if (decided) this.#settle(decided);
  }

  /** Wait for the decision at `point`: from the record as it is now, or the next one that decides. */
  wait(point: BarrierPoint): Promise<BarrierDecision> {
    const decided = this.#decision(point);
    if (decided) return Promise.resolve(decided);
    this.#settle({ decision: "abort", reason: `barrier ${this.#waiting?.point.id ?? ""} superseded by ${point.id}` });
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#settle({ decision: "abort", reason: `no decision at barrier ${point.id} within ${point.timeoutMs} ms (the driver is gone, or etcd does not answer)` }), point.timeoutMs);
      this.#waiting = { point, resolve, timer };
    });
  }

  /** Stop waiting: the agent stops. */
  cancel(reason: string): void {
    this.#settle({ decision: "abort", reason });
  }

  #settle(decided: BarrierDecision): void {
    const waiting = this.#waiting;
    if (!waiting) return;
    this.#waiting = undefined;
    clearTimeout(waiting.timer);
    waiting.resolve(decided);
  }

  #decision(point: BarrierPoint): BarrierDecision | undefined {
    const rollout = this.#rollout;
    if (!rollout || rollout.id !== this.rolloutId) return { decision: "abort", reason: `rollout ${this.rolloutId} is no longer the group's` };
    if (rollout.state !== "running") return { decision: "abort", reason: `the rollout is ${rollout.state}${rollout.reason ? `: ${rollout.reason}` : ""}` };
    const wave = rollout.waves[this.wave];
    if (!wave) return { decision: "abort", reason: `the rollout has no wave ${this.wave}` };
    if (wave.barrier === "abort" || wave.state === "aborted" || wave.state === "failed") return { decision: "abort", reason: `wave ${this.wave}'s barrier says abort` };
    if (wave.barrier === "go" && (wave.barrierId === undefined || wave.barrierId === point.id)) return { decision: "go", reason: `wave ${this.wave}'s barrier says go` };
    return undefined;
  }
}
