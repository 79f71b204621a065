/**
 * A soft update keeps every process's state as it is: no codeChange runs. When the state's shape
 * changed (the build records each server's `stateShape`), the processes would keep states of the old
 * shape, silently. Checked on the appups that will run, generated or hand-written. Pure.
 *
 * - both versions record a shape and they differ: an issue (generation stops), naming the first difference;
 * - either version records none: a warning, the shape of that state is unchecked.
 */
import type { PlanIssue, PlanWarning } from "./issues.ts";
import type { PlanAppup } from "./generate-plan.ts";
import type { ReleaseDiff } from "./release-diff.ts";
import { firstShapeDifference } from "./compare-state-shapes.ts";

export function checkStateShapes(diff: ReleaseDiff, appups: readonly PlanAppup[]): { issues: PlanIssue[]; warnings: PlanWarning[] } {
  const issues: PlanIssue[] = [];
  const warnings: PlanWarning[] = [];
  for (const app of diff.changed) {
    const appup = appups.find((p) => p.app === app.name);
    for (const i of appup?.up ?? []) {
      if (i.op !== "update" || (i.change !== undefined && i.change !== "soft")) continue;
      const pair = app.changed.find((c) => c.to.name === i.module);
      if (!pair || pair.to.behaviour !== "server") continue;
      const module = `${app.name}/${i.module}`;
      const [a, b] = [pair.from.stateShape, pair.to.stateShape];
      if (a && b) {
        const difference = firstShapeDifference(a, b);
        if (difference) {
          const declared = pair.from.vsnDeclared || pair.to.vsnDeclared;
          issues.push({ code: "state-shape-changed-soft", module, vsn: declared ? pair.to.vsn : null, ...difference });
        }
      } else {
        const missing = [...(a ? [] : [app.from.version]), ...(b ? [] : [app.to.version])];
        warnings.push({ code: "state-shape-unchecked", module, missing });
      }
    }
  }
  return { issues, warnings };
}
