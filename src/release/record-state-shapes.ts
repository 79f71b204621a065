/**
 * Build step: record `stateShape` for every server module that exports `stateSchema`. The modules are
 * loaded from the staged release in a worker thread (src/verify/read-state-shapes.ts); the build's own
 * thread runs no user code. A schema that cannot be read fails the build: recorded as unknown, it would
 * let a state change through generation with only a warning, which is what the shape is there to stop.
 */
import type { AppFile } from "./app-file.ts";
import type { ReleaseIssue } from "./issues.ts";
import { readStateShapes } from "../verify/read-state-shapes.ts";

/** Fills in `stateShape` of the modules of `apps` (in place); the issues of those whose schema could not be read. */
export async function recordStateShapes(releaseDir: string, apps: AppFile[], sourceOf: (ref: string) => string): Promise<ReleaseIssue[]> {
  const wanted = apps.flatMap((app) => app.modules.filter((m) => m.behaviour === "server" && m.exports.includes("stateSchema")).map((m) => `${app.name}/${m.name}`));
  const answers = await readStateShapes({ dir: releaseDir, apps }, wanted);
  const issues: ReleaseIssue[] = [];
  for (const answer of answers) {
    const [appName, name] = [answer.module.slice(0, answer.module.indexOf("/")), answer.module.slice(answer.module.indexOf("/") + 1)];
    const meta = apps.find((a) => a.name === appName)?.modules.find((m) => m.name === name);
    if (!meta) continue;
    if ("shape" in answer) {
      meta.stateShape = answer.shape;
    } else if (answer.problem === "not-zod") {
      issues.push({ code: "build-failed", file: sourceOf(answer.module), field: "stateSchema", detail: `is not a zod 4 schema (${answer.detail})`, fix: "`export const stateSchema = z.object({...})` with the `z` of relup/runtime or of zod 4" });
    } else {
      issues.push({
        code: "build-failed",
        file: sourceOf(answer.module),
        field: "stateSchema",
        detail: `cannot be read: ${answer.detail}`,
        fix: "the build loads a server module that exports stateSchema (outside a node, as `relup verify` does) to record the shape of its state; keep its top-level code free of calls that need a running node",
      });
    }
  }
  return issues;
}
