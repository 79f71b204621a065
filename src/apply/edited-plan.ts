/**
 * `relup apply --plan FILE`: is FILE the plan `relup generate` makes for the two releases? Generation is
 * deterministic, so the plan is made again from the two releases unpacked in the root and its
 * instructions (up and down, not the notes) are compared with the file's. A plan that differs was
 * edited after generation (or made by another relup version): it is refused unless the operator says it
 * was reviewed (--allow-edited-plan); then a note says so, and the node's meaning check still runs
 * before step one.
 *
 * Left to the node, which refuses each with its own fix: a plan for other releases or builds (stale), and
 * a release that is not unpacked in the root (there is nothing here to make the plan from).
 */
import { isDeepStrictEqual } from "node:util";
import { ExitCode, UserError } from "../errors.ts";
import { describeStep } from "../relup/describe-step.ts";
import { generatePlan } from "../relup/generate-plan.ts";
import type { Instruction, RelupFile } from "../relup/instruction.ts";
import { formatPlanIssue } from "../relup/issues.ts";
import { loadReleaseModel } from "../relup/load-release-model.ts";
import { readReleasesFile, releaseDirOf } from "../runtime/releases-file.ts";

/**
 * How a plan differs from the generated one: `differs`, per section in words; `no-plan`, relup generate
 * refuses to make one for these releases (each issue in words).
 */
export interface PlanEdits {
  kind: "differs" | "no-plan";
  lines: readonly string[];
}

/** How a plan differs from the generated one; undefined when it does not, or when it is not compared here. */
export async function editsOf(root: string, plan: RelupFile, versions: { running: string; target: string }): Promise<PlanEdits | undefined> {
  const pair = [plan.from.version, plan.to.version].sort().join(" ");
  if (pair !== [versions.running, versions.target].sort().join(" ")) return undefined;
  // The node's "not unpacked" names the release and the fix; the release directory alone may be an
  // unpack's leftover, so RELEASES decides, as on the node.
  const unpacked = new Set((await readReleasesFile(root))?.releases.map((r) => r.version) ?? []);
  if (!unpacked.has(plan.from.version) || !unpacked.has(plan.to.version)) return undefined;
  const from = await loadReleaseModel(releaseDirOf(root, plan.from.version));
  const to = await loadReleaseModel(releaseDirOf(root, plan.to.version));
  if (from.identity !== plan.from.identity || to.identity !== plan.to.identity || from.release.name !== plan.release) return undefined;
  const generated = generatePlan(from, to);
  if (!generated.ok) return { kind: "no-plan", lines: generated.issues.map(formatPlanIssue) };
  const up = sectionEdit("up", plan.up, generated.value.file.up);
  const down = sectionEdit("down", plan.down, generated.value.file.down);
  return up === undefined && down === undefined ? undefined : { kind: "differs", lines: [up ?? "up: no difference", down ?? "down: no difference"] };
}

/** The first step where `plan` and `generated` differ, or undefined. Compared as JSON: key order and absent keys do not count. */
function sectionEdit(section: "up" | "down", plan: readonly Instruction[], generated: readonly Instruction[]): string | undefined {
  const json = (s: readonly Instruction[]) => JSON.parse(JSON.stringify(s)) as Instruction[];
  const [a, b] = [json(plan), json(generated)];
  const at = a.findIndex((step, n) => !isDeepStrictEqual(step, b[n]));
  const first = at !== -1 ? at : a.length < b.length ? a.length : -1;
  if (first === -1) return undefined;
  const say = (step: Instruction | undefined) => (step ? `${describeStep(step)} ${clip(JSON.stringify(step))}` : "nothing");
  const lengths = a.length === b.length ? "" : ` (${a.length} steps, generated ${b.length})`;
  return `${section}: first differs at step ${first + 1}${lengths}: the plan has ${say(a[first])}, relup generate makes ${say(b[first])}`;
}

/** A step's JSON, cut short: a summary names the step, it does not reprint a large `extra`. */
function clip(json: string, max = 200): string {
  return json.length <= max ? json : `${json.slice(0, max)}… (${json.length} characters)`;
}

/** The refusal: exit 1, nothing changed. */
export class EditedPlan extends UserError {
  override readonly name = "EditedPlan";
  constructor(planFile: string, edits: PlanEdits) {
    super(`${notGenerated(planFile, edits)}\nNothing was changed. ${fixOf(edits)}`, ExitCode.checkFailed);
  }
}

function fixOf(edits: PlanEdits): string {
  const reviewed = "if this plan was reviewed, pass --allow-edited-plan (the node still checks that the plan does what the two releases need)";
  if (edits.kind === "no-plan") return `Fix: correct what relup generate reports above (in the newer release's hand-written appup.json, then rebuild), or, ${reviewed}.`;
  return `Fix: apply the plan relup generate makes (relup generate <older release> <newer release> -o plans/), or, ${reviewed.replace("this plan was", "this edit was")}.`;
}

export function notGenerated(planFile: string, edits: PlanEdits): string {
  const lines = edits.lines.map((e) => `  ${e}`).join("\n");
  if (edits.kind === "no-plan") return `${planFile} cannot be compared with the plan \`relup generate\` makes: relup generate makes no plan for these releases:\n${lines}`;
  return `${planFile} is not the plan \`relup generate\` makes for these releases:\n${lines}\nIt was edited after generation, or it was made by another relup version: regenerate it with this one.`;
}
