/**
 * For the plan views: the process modules that leave in one direction of a plan, and what happens to
 * the processes that run them, step by step, so that a reviewer sees which processes end and how.
 */
import type { Plan } from "../generate-plan.ts";
import type { Instruction } from "../instruction.ts";

/** "`w/b` (server) leaves: its supervised processes are stopped at step 3 ... killed at step 9 ...". */
export function leavingProcesses(plan: Plan, direction: "up" | "down"): string[] {
  const script = direction === "up" ? plan.file.up : plan.file.down;
  const leaving = plan.diff.changed.flatMap((app) =>
    (direction === "up" ? app.removed : app.added).filter((m) => m.behaviour === "server" || m.behaviour === "supervisor").map((m) => ({ ref: `${app.name}/${m.name}`, behaviour: m.behaviour })),
  );
  const stepOf = (match: (i: Instruction) => boolean) => {
    const n = script.findIndex(match);
    return n === -1 ? undefined : n + 1;
  };
  return leaving.map(({ ref, behaviour }) => {
    const stop = stepOf((i) => i.op === "stop" && i.modules.includes(ref));
    const remove = script.find((i): i is Extract<Instruction, { op: "remove" }> => i.op === "remove" && i.module === ref);
    const purge = stepOf((i) => i.op === "purge" && i.modules.includes(ref));
    const parts = [
      stop !== undefined
        ? `step ${stop} stops its supervised processes through their supervisors (terminate runs; a rollback starts them again, fresh)`
        : "no step stops its processes",
      purge === undefined
        ? "any other process running it keeps running its old code (this plan does not purge it; `relup permanent` kills it)"
        : remove?.postPurge === "soft_purge"
          ? `any other process running it makes the purge of step ${purge} refuse (soft_purge), so the install is refused before step one`
          : `any other process running it keeps running its old code until step ${purge}, whose purge kills it (exit reason \`killed\`)`,
    ];
    return `\`${ref}\` (${behaviour}) leaves: ${parts.join("; ")}. Their state is not kept; \`relup apply --dry-run\` lists the live processes the purge would kill`;
  });
}
