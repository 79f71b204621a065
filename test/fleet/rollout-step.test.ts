/**
 * The node agent's rollout rules as one decision (rollout-step.ts), for every state of the record and of
 * the node's wave: what a node does next, given what it runs and what it last reported.
 */
import { describe, expect, it } from "vitest";
import type { NodeRecord } from "../../src/fleet/node-record.ts";
import type { RolloutRecord, RolloutWave } from "../../src/fleet/rollout-record.ts";
import { rolloutStep, type StepInput } from "../../src/fleet/rollout-step.ts";
import { testRollout } from "../helpers/rollout-fixture.ts";

const rollout = (state: RolloutRecord["state"], waves: RolloutWave[], barrier = false): RolloutRecord => testRollout({ state, waves, options: { barrier, barrierTimeoutMs: 1000 } });
const report = (state: NonNullable<NodeRecord["rollout"]>["state"], id = "r-test1"): NodeRecord["rollout"] => ({ id, wave: 0, state, since: "2026-01-01T00:00:00Z" });
const old = { version: "1.0.0", permanent: true };
const fresh = { version: "1.1.0", permanent: false };
const step = (input: Partial<StepInput> & Pick<StepInput, "rollout">) => rolloutStep({ nodeId: "n1", running: old, report: undefined, deadlinePassed: false, ...input });

describe("rolloutStep", () => {
  it("running: a released wave installs, then says installed once; a pending wave or no wave follows the desired record", () => {
    for (const state of ["released", "installing", "soaking", "passed"] as const) {
      expect(step({ rollout: rollout("running", [{ nodes: ["n1"], state }]) })).toEqual({ do: "install", wave: 0 });
    }
    expect(step({ rollout: rollout("running", [{ nodes: ["n0"], state: "passed" }, { nodes: ["n1"], state: "installing" }]), running: fresh })).toEqual({ do: "installed", wave: 1 });
    expect(step({ rollout: rollout("running", [{ nodes: ["n1"], state: "installing" }]), running: fresh, report: report("installed") })).toMatchObject({ do: "nothing" });
    expect(step({ rollout: rollout("running", [{ nodes: ["n0"], state: "installing" }, { nodes: ["n1"], state: "pending" }]) })).toEqual({ do: "desired" });
    expect(step({ rollout: rollout("running", [{ nodes: ["n0"], state: "installing" }]) })).toEqual({ do: "desired" });
  });

  it("running: an aborted or failed wave waits for the driver's revert; preparing prepares only with the barrier's prepare", () => {
    expect(step({ rollout: rollout("running", [{ nodes: ["n1"], state: "aborted" }]) })).toMatchObject({ do: "nothing" });
    expect(step({ rollout: rollout("running", [{ nodes: ["n1"], state: "failed" }]), running: fresh, report: report("installed") })).toMatchObject({ do: "nothing" });
    expect(step({ rollout: rollout("running", [{ nodes: ["n1"], state: "preparing", barrier: "prepare" }], true) })).toEqual({ do: "prepare", wave: 0 });
    expect(step({ rollout: rollout("running", [{ nodes: ["n1"], state: "preparing", barrier: "abort" }], true) })).toMatchObject({ do: "nothing" });
    expect(step({ rollout: rollout("running", [{ nodes: ["n1"], state: "preparing", barrier: "prepare" }], false) })).toMatchObject({ do: "nothing" });
  });

  it("running with the deadline passed: move the record to reverting, whatever the wave", () => {
    expect(step({ rollout: rollout("running", [{ nodes: ["n1"], state: "pending" }]), deadlinePassed: true })).toEqual({ do: "deadline" });
  });

  it("reverting: revert what this rollout installed; a node no longer on it says reverted; others do nothing", () => {
    const waves: RolloutWave[] = [{ nodes: ["n1"], state: "failed" }];
    expect(step({ rollout: rollout("reverting", waves), running: fresh, report: report("installed") })).toEqual({ do: "revert", wave: 0 });
    expect(step({ rollout: rollout("reverting", waves), running: fresh, report: report("installing") })).toEqual({ do: "revert", wave: 0 });
    // Not installed by this rollout (another rollout's report, or none): left alone.
    expect(step({ rollout: rollout("reverting", waves), running: fresh, report: report("installed", "r-other") })).toMatchObject({ do: "nothing" });
    expect(step({ rollout: rollout("reverting", waves), running: old, report: report("installed") })).toEqual({ do: "reverted", wave: 0 });
    expect(step({ rollout: rollout("reverting", waves), running: old, report: report("reverted") })).toMatchObject({ do: "nothing" });
    expect(step({ rollout: rollout("reverting", waves), running: old, report: report("failed") })).toMatchObject({ do: "nothing" });
    expect(step({ rollout: rollout("reverted", waves), running: old, report: report("reverted") })).toEqual({ do: "desired" });
    expect(step({ rollout: rollout("reverted", waves), running: fresh, report: report("installed") })).toEqual({ do: "revert", wave: 0 });
  });

  it("succeeded: the release made permanent (and said so once); then, or for a node not on it, the desired record", () => {
    const waves: RolloutWave[] = [{ nodes: ["n1"], state: "passed" }];
    expect(step({ rollout: rollout("succeeded", waves), running: fresh, report: report("installed") })).toEqual({ do: "permanent", wave: 0 });
    expect(step({ rollout: rollout("succeeded", waves), running: { version: "1.1.0", permanent: true }, report: report("permanent") })).toEqual({ do: "desired" });
    expect(step({ rollout: rollout("succeeded", waves), running: { version: "1.1.0", permanent: true }, report: report("installed") })).toEqual({ do: "permanent", wave: 0 });
    expect(step({ rollout: rollout("succeeded", [{ nodes: ["n0"], state: "passed" }]), running: fresh })).toEqual({ do: "permanent", wave: undefined });
    expect(step({ rollout: rollout("succeeded", waves), running: old })).toEqual({ do: "desired" });
  });
});
