/**
 * A node's side of its wave's barrier (wave-barrier.ts): the decision at a barrier point comes from the
 * rollout record (go, for this point when the wave names one; abort, an aborted or failed wave, a rollout
 * no longer running or replaced), or is abort when none comes within the point's timeout.
 */
import { describe, expect, it } from "vitest";
import type { RolloutRecord, RolloutWave } from "../../src/fleet/rollout-record.ts";
import { WaveBarrier } from "../../src/fleet/wave-barrier.ts";
import { testRollout } from "../helpers/rollout-fixture.ts";

const record = (wave: RolloutWave, extra: Partial<RolloutRecord> = {}): RolloutRecord => testRollout({ id: "r-barrier", waves: [wave], options: { barrier: true }, ...extra });
const point = { id: "before-point-of-no-return", timeoutMs: 60_000 };

describe("WaveBarrier", () => {
  it("holds until the wave's barrier says go, then goes", async () => {
    const prepare = record({ nodes: ["n1"], state: "preparing", barrier: "prepare" });
    const barrier = new WaveBarrier("r-barrier", 0, prepare);
    const decided = barrier.wait(point);
    barrier.update({ ...prepare, updated: "2026-01-01T00:00:01Z" });
    barrier.update(record({ nodes: ["n1"], state: "released", barrier: "go" }));
    expect(await decided).toEqual({ decision: "go", reason: "wave 0's barrier says go" });
  });

  it("a go for another point (barrierId) does not release this one; the go for it does", async () => {
    const barrier = new WaveBarrier("r-barrier", 0, record({ nodes: ["n1"], state: "released", barrier: "go", barrierId: "sync-1" }));
    expect(await barrier.wait({ id: "sync-1", timeoutMs: 60_000 })).toMatchObject({ decision: "go" });
    const second = barrier.wait({ id: "sync-2", timeoutMs: 60_000 });
    barrier.update(record({ nodes: ["n1"], state: "released", barrier: "go", barrierId: "sync-2" }));
    expect(await second).toMatchObject({ decision: "go" });
  });

  it("aborts on the wave's abort, a reverting rollout, another rollout, or no decision in time", async () => {
    const prepare = record({ nodes: ["n1"], state: "preparing", barrier: "prepare" });
    const cases: [RolloutRecord | undefined, RegExp][] = [
      [record({ nodes: ["n1"], state: "aborted", barrier: "abort" }), /wave 0's barrier says abort/],
      [{ ...prepare, state: "reverting", reason: "n2 failed" }, /the rollout is reverting: n2 failed/],
      [{ ...prepare, id: "r-another" }, /rollout r-barrier is no longer the group's/],
      [undefined, /no longer the group's/],
    ];
    for (const [next, reason] of cases) {
      const barrier = new WaveBarrier("r-barrier", 0, prepare);
      const decided = barrier.wait(point);
      barrier.update(next);
      const { decision, reason: said } = await decided;
      expect(decision).toBe("abort");
      expect(said).toMatch(reason);
    }
    const alone = new WaveBarrier("r-barrier", 0, prepare);
    expect(await alone.wait({ id: "p", timeoutMs: 30 })).toEqual({ decision: "abort", reason: "no decision at barrier p within 30 ms (the driver is gone, or etcd does not answer)" });
  });
});
