/**
 * The node agent's rules for a rollout record (rollout-record.ts), as one pure decision: given the
 * record, whether its deadline passed, and what the node runs and last reported, the one thing the agent
 * does next for its node. The agent (node-agent.ts) does it, then decides again.
 *
 * Precedence: while the rollout is running or reverting and the node is in a released wave (preparing,
 * released, installing, soaking, passed), the rollout's release is the node's target and the desired
 * record is ignored; a node in a pending wave, or in no wave, follows the desired record (`desired`).
 *
 * - running, the deadline passed (no driver): `deadline` (the record goes running → reverting; the
 *   node then reverts by the reverting rule)
 * - running, the node's wave preparing with barrier `prepare` (and the rollout uses the barrier): `prepare`
 *   (install, held before the point of no return until the wave's barrier says go or abort)
 * - running, the wave released/installing/soaking/passed: `install` unless the node runs the release,
 *   then `installed` (say so in the record, once)
 * - running, the wave aborted or failed: nothing (the driver reverts the rollout)
 * - reverting, reverted, failed: the node runs the release, installed by this rollout (its report names
 *   the rollout): `revert` (rollback in memory); it no longer runs it (restarted, or reverted):
 *   `reverted` (say so, once); otherwise the desired record (reverted, failed) or nothing (reverting)
 * - succeeded: the node runs the release: `permanent` (unless it is, and said so); otherwise, and once
 *   done, the desired record, which the driver set to the release before it said succeeded
 */
import { assertNever } from "../errors.ts";
import type { NodeRecord } from "./node-record.ts";
import type { RolloutRecord } from "./rollout-record.ts";

export type RolloutStep =
  | { do: "desired" }
  | { do: "nothing"; why: string }
  | { do: "deadline" }
  | { do: "prepare"; wave: number }
  | { do: "install"; wave: number }
  | { do: "installed"; wave: number }
  | { do: "revert"; wave: number }
  | { do: "reverted"; wave: number }
  | { do: "permanent"; wave: number | undefined };

export const RELEASED_WAVE_STATES: ReadonlySet<string> = new Set(["preparing", "released", "installing", "soaking", "passed"]);

export interface StepInput {
  rollout: RolloutRecord;
  nodeId: string;
  /** what the node runs now, and whether that release is its permanent one */
  running: { version: string; permanent: boolean };
  /** the node record's rollout report (fleet-member.ts) */
  report: NodeRecord["rollout"];
  /** the rollout's deadline key is gone (deleted, or missing for the deadline's length) */
  deadlinePassed: boolean;
}

export function rolloutStep(input: StepInput): RolloutStep {
  const { rollout, nodeId, running, report } = input;
  const wave = rollout.waves.findIndex((w) => w.nodes.includes(nodeId));
  const onRelease = running.version === rollout.release.version;
  // The node runs the release because this rollout installed it: its report names the rollout.
  const mine = report?.id === rollout.id && report.state !== "reverted" && report.state !== "aborted";
  switch (rollout.state) {
    case "running": {
      if (input.deadlinePassed) return { do: "deadline" };
      if (wave < 0) return { do: "desired" };
      const { state, barrier } = rollout.waves[wave]!;
      if (!RELEASED_WAVE_STATES.has(state)) {
        return state === "pending" ? { do: "desired" } : { do: "nothing", why: `wave ${wave} ${state}: the driver reverts the rollout` };
      }
      if (onRelease) return report?.id === rollout.id && report.state === "installed" ? { do: "nothing", why: "installed" } : { do: "installed", wave };
      if (state === "preparing") {
        if (rollout.options.barrier && barrier === "prepare") return { do: "prepare", wave };
        return { do: "nothing", why: `wave ${wave} preparing, barrier ${barrier ?? "not set"}` };
      }
      return { do: "install", wave };
    }
    case "reverting":
    case "reverted":
    case "failed": {
      if (onRelease && mine) return { do: "revert", wave };
      if (!onRelease && mine && report.state !== "failed") return { do: "reverted", wave };
      return rollout.state === "reverting" ? { do: "nothing", why: "reverting: this node does not run the release" } : { do: "desired" };
    }
    case "succeeded": {
      if (!onRelease) return { do: "desired" };
      const said = wave < 0 || (report?.id === rollout.id && report.state === "permanent");
      // Done: the desired record (the driver set it to this release) rules again, e.g. a later desire.
      return running.permanent && said ? { do: "desired" } : { do: "permanent", wave: wave < 0 ? undefined : wave };
    }
    default:
      return assertNever(rollout.state);
  }
}
