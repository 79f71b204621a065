/**
 * What a plan that restarts the node (restart_new_emulator) costs: a new node boots the target release,
 * so every process of the running node starts afresh and its in-memory state is lost. `relup apply`
 * refuses such a plan unless the user allows it, and shows this impact wherever it asks or reports.
 */
import { ExitCode, UserError } from "../errors.ts";
import type { Instruction, RelupFile } from "../relup/instruction.ts";
import { controlRequest } from "../runtime/control-client.ts";

export interface RestartImpact {
  /** why the plan restarts the node, from the plan's own warnings */
  reasons: string[];
  /** processes of the running node by callback module, most first */
  processes: { module: string; count: number }[];
  total: number;
}

export function restartsNode(script: readonly Instruction[]): boolean {
  return script.some((i) => i.op === "restart_new_emulator");
}

/** The script that takes the node from `running` to the plan's other end. */
export function scriptFrom(plan: RelupFile, running: string): readonly Instruction[] {
  return plan.from.version === running ? plan.up : plan.down;
}

/** The impact of `plan` on the node of `root`, or undefined when its script is a hot upgrade. */
export async function restartImpact(root: string, plan: RelupFile, running: string): Promise<RestartImpact | undefined> {
  if (!restartsNode(scriptFrom(plan, running))) return undefined;
  const list = await controlRequest(root, { cmd: "processes" });
  const counts = new Map<string, number>();
  for (const p of list) counts.set(p.module, (counts.get(p.module) ?? 0) + 1);
  const processes = [...counts].map(([module, count]) => ({ module, count })).sort((a, b) => b.count - a.count || (a.module < b.module ? -1 : a.module > b.module ? 1 : 0));
  return { reasons: restartReasons(plan), processes, total: list.length };
}

/** The plan's "not a hot upgrade" warnings (written by generation), without their prefix. */
function restartReasons(plan: RelupFile): string[] {
  const prefix = "warning: not a hot upgrade: ";
  const reasons = plan.notes.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
  return reasons.length > 0 ? reasons : ["the plan holds restart_new_emulator, and its notes give no reason (a hand-written appup asks for it, or the plan was edited)"];
}

/** The impact as lines for people: why, then how many processes lose their state, per module. */
export function formatRestartImpact(impact: RestartImpact): string {
  const width = Math.max(0, ...impact.processes.map((p) => p.module.length));
  return [
    "this plan restarts the node (restart_new_emulator): it is not a hot upgrade.",
    ...impact.reasons.map((r) => `  why: ${r}`),
    `  the in-memory state of ${impact.total} processes is lost (they start afresh on the new node):`,
    ...impact.processes.map((p) => `    ${p.module.padEnd(width)}  ${p.count}`),
  ].join("\n");
}

/** `apply` was not allowed to restart the node: exit 1, with the impact and the fix. */
export class RestartNotAllowed extends UserError {
  override readonly name = "RestartNotAllowed";
  constructor(readonly impact: RestartImpact, removed: string | undefined) {
    super(
      `refused: ${formatRestartImpact(impact)}\n` +
        `Nothing was changed${removed ? ` (${removed}, unpacked for this attempt, was removed again)` : ""}. ` +
        "Fix: review the plan, then apply it with --allow-restart; or make the upgrade hot: keep the Node range of the running release, and the packages the plan names (a native addon, or listed under npm.restart in relup.config.json).",
      ExitCode.checkFailed,
    );
  }
}
