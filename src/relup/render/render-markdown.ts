/** The plan for a pull request comment: summary, a table per direction, reasons, risks, and the full instruction lists folded. */
import { formatPlanWarning } from "../issues.ts";
import type { Instruction } from "../instruction.ts";
import type { Plan } from "../generate-plan.ts";
import { describeAppupInstruction, describeScript, packageChangeLines, packageReloadsOf, unchangedApp, type PackageReloads, risks, summaryLine, supervisorsOf, type PlanVerification } from "./describe.ts";
import { leavingProcesses } from "./leaving-processes.ts";
import { suspendWindows } from "./render-text.ts";

const cell = (s: string) => s.replace(/\|/g, "\\|");

const OUTCOME_MARK = { verified: "✅", failed: "❌", unverified: "⚠️", error: "❌" } as const;

export function renderPlanMarkdown(plan: Plan, options: { verification?: PlanVerification } = {}): string {
  const out: string[] = [`### relup plan: ${plan.file.release} ${plan.file.from.version} → ${plan.file.to.version}`, "", `**${summaryLine(plan).split(": ").slice(1).join(": ")}**`, ""];
  out.push("| application | change | what happens |", "|---|---|---|");
  for (const app of plan.appups) {
    const oldEnv = plan.diff.changed.find((d) => d.name === app.app)?.from.env;
    const what = app.up.length > 0 ? app.up.map((i) => cell(describeAppupInstruction(i, oldEnv))).join("<br>") : "no instruction";
    out.push(`| ${app.app} | ${app.from} → ${app.to}${app.source === "generated" ? "" : " (hand-written appup)"} | ${what} |`);
  }
  for (const app of plan.diff.added) out.push(`| ${app.name} | added ${app.version} | ${app.modules.length} modules loaded, application started |`);
  for (const app of plan.diff.removed) out.push(`| ${app.name} | removed ${app.version} | application stopped, modules removed |`);
  for (const app of plan.diff.unchanged) out.push(`| ${app.name} | ${app.version} | ${cell(unchangedApp(plan, app.name))} |`);
  out.push("");
  if (plan.diff.npm.changes.length > 0) {
    out.push("**npm packages**", "", ...packageChangeLines(plan).map(({ text }) => `- ${text}`), "");
  }
  if (options.verification) {
    out.push(`**State migrations** (\`relup verify\`: ${options.verification.how})`, "");
    if (options.verification.modules.length === 0) out.push("No stateful update: nothing to verify.", "");
    else {
      out.push("| module | vsn | verification |", "|---|---|---|");
      for (const m of options.verification.modules) out.push(`| \`${m.module}\` | ${JSON.stringify(m.oldVsn)} → ${JSON.stringify(m.newVsn)} | ${OUTCOME_MARK[m.outcome]} ${cell(m.text)} |`);
      out.push("");
    }
  }
  const risky = [...risks(plan), ...plan.warnings.map(formatPlanWarning)];
  if (risky.length > 0) out.push("**Risks**", "", ...risky.map((r) => `- ⚠️ ${r}`), "");
  direction(out, "Upgrade", plan.file.up, plan.reasons.up, supervisorsOf(plan), leavingProcesses(plan, "up"), packageReloadsOf(plan, "up"));
  direction(out, "Downgrade", plan.file.down, plan.reasons.down, supervisorsOf(plan), leavingProcesses(plan, "down"), packageReloadsOf(plan, "down"));
  out.push(`<sub>release.json sha256: from \`${plan.file.from.identity.slice(0, 12)}…\`, to \`${plan.file.to.identity.slice(0, 12)}…\`</sub>`, "");
  return out.join("\n");
}

function direction(out: string[], title: string, script: readonly Instruction[], reasons: readonly string[], supervisors: ReadonlySet<string>, leaving: readonly string[], reloads: PackageReloads | undefined): void {
  out.push(`<details><summary>${title}: ${script.length} instructions</summary>`, "", "| # | instruction | what it does |", "|---|---|---|");
  const texts = describeScript(script, supervisors, reloads);
  script.forEach((i, n) => out.push(`| ${n + 1} | \`${i.op}\` | ${cell(texts[n]!)} |`));
  out.push("");
  const windows = suspendWindows(script);
  if (windows.length > 0) out.push("Processes suspended:", "", ...windows.map((w) => `- ${w}`), "");
  if (leaving.length > 0) out.push("Processes whose module leaves:", "", ...leaving.map((l) => `- ${l}`), "");
  if (reasons.length > 0) out.push("Why this order:", "", ...reasons.map((r) => `- ${r}`), "");
  out.push("```json", JSON.stringify(script, null, 2), "```", "", "</details>", "");
}
