/** A rollout record for tests that need one as data (the agent's rules, the barrier's wait, a record left behind). */
import type { RolloutRecord } from "../../src/fleet/rollout-record.ts";

/** calculator-like counter 1.0.0 → 1.1.0 in group calc, one pending wave of n1, running; `over` replaces any field. */
export function testRollout(over: Partial<Omit<RolloutRecord, "options">> & { options?: Partial<RolloutRecord["options"]> } = {}): RolloutRecord {
  const sha = "a".repeat(64);
  const { options, ...rest } = over;
  return {
    format: 1,
    id: "r-test1",
    group: "calc",
    release: { name: "counter", version: "1.1.0", identity: sha, sha256: sha },
    url: "file:///store/counter/counter-1.1.0.tar.gz",
    plan: { url: "file:///store/plan.json" },
    from: { version: "1.0.0" },
    state: "running",
    waves: [{ nodes: ["n1"], state: "pending" }],
    baseline: {},
    started: "2026-01-01T00:00:00Z",
    updated: "2026-01-01T00:00:00Z",
    ...rest,
    options: { canary: 1, soakMs: 0, waves: "1", maxUnavailable: 0, barrier: false, barrierTimeoutMs: 60_000, deadlineS: 10, ...options },
  };
}
