/** What `relup generate` prints: the plan in the format asked, and a line on stderr for the file it wrote or checked. */
import type { GenerateResult } from "../../relup/generate-for-review.ts";
import { relupFileText } from "../../relup/relup-file-io.ts";
import { renderPlanMarkdown } from "../../relup/render/render-markdown.ts";
import { renderPlanText } from "../../relup/render/render-text.ts";
import { planVerification } from "../../verify/render-report.ts";
import { verifyExitCode } from "../../verify/verify-releases.ts";
import { ExitCode } from "../../errors.ts";

/** The first line of the sticky pull-request comment: hidden in the rendered comment, found by the workflow to replace it. */
export const PLAN_COMMENT_MARKER = "<!-- relup-plan-comment -->";

export function renderGenerate(result: GenerateResult, options: { format: "text" | "markdown" | "json"; comment: boolean; color: boolean; command: { from: string; to: string } }): { out: string; err?: string } {
  const { plan, report } = result;
  if (result.check) return { out: `${result.check.file}: up to date with ${plan.file.release} ${plan.file.from.version} → ${plan.file.to.version}\n` };
  const verification = report ? { verification: planVerification(report) } : {};
  const out =
    options.format === "json"
      ? relupFileText(plan.file)
      : options.format === "markdown"
        ? (options.comment ? `${PLAN_COMMENT_MARKER}\n` : "") + renderPlanMarkdown(plan, verification)
        : renderPlanText(plan, { color: options.color, ...verification });
  const notes: string[] = [];
  if (report && verifyExitCode(report, false) !== ExitCode.ok) notes.push(`relup verify: a state migration failed; \`relup verify ${options.command.from} ${options.command.to} --seed ${report.seed}\` shows the failing state`);
  if (result.wrote !== undefined) notes.push(`wrote ${result.wrote}`);
  return notes.length > 0 ? { out, err: notes.map((n) => `${n}\n`).join("") } : { out };
}
