/**
 * The plan as a reviewer reads it in a terminal (terraform-style): the one-line summary, what happens to
 * each application, every step up with the reason for its order and the processes it suspends, the
 * risks, then the same for the way down.
 */
import pc from "picocolors";
import { formatPlanWarning } from "../issues.ts";
import type { Instruction } from "../instruction.ts";
import type { Plan } from "../generate-plan.ts";
import { leavingProcesses } from "./leaving-processes.ts";
import { describeAppupInstruction, describeScript, packageChangeLines, packageReloadsOf, plural, unchangedApp, type PackageReloads, risks, summaryLine, supervisorsOf, type PlanVerification } from "./describe.ts";

export function renderPlanText(plan: Plan, options: { color?: boolean; verification?: PlanVerification } = {}): string {
  const c = pc.createColors(options.color ?? false);
  const out: string[] = [c.bold(summaryLine(plan)), ""];

  out.push(c.bold("Applications"));
  for (const app of plan.appups) {
    out.push(`  ${c.yellow("~")} ${app.app} ${app.from} → ${app.to}${app.source === "generated" ? "" : c.dim(" (hand-written appup.json)")}`);
    const oldEnv = plan.diff.changed.find((d) => d.name === app.app)?.from.env;
    for (const i of app.up) out.push(`      ${describeAppupInstruction(i, oldEnv)}`);
    if (app.up.length === 0) out.push(c.dim("      no instruction: the new version changes nothing that runs"));
  }
  for (const app of plan.diff.added) out.push(`  ${c.green("+")} ${app.name} ${app.version}: added, ${app.modules.length} modules loaded and started`);
  for (const app of plan.diff.removed) out.push(`  ${c.red("-")} ${app.name} ${app.version}: removed, stopped and unloaded`);
  const still = plan.diff.unchanged.filter((a) => unchangedApp(plan, a.name) === "unchanged");
  for (const app of plan.diff.unchanged.filter((a) => !still.includes(a))) out.push(`  ${c.yellow("~")} ${app.name} ${app.version}: ${unchangedApp(plan, app.name)}`);
  if (still.length > 0) out.push(c.dim(`    unchanged: ${still.map((a) => `${a.name} ${a.version}`).join(", ")}`));
  out.push("");
  if (plan.diff.npm.changes.length > 0) {
    out.push(c.bold("npm packages"));
    for (const { change: p, text } of packageChangeLines(plan)) out.push(`  ${p.from === undefined ? c.green("+") : p.to === undefined ? c.red("-") : c.yellow("~")} ${text}`);
    out.push("");
  }

  if (options.verification) {
    out.push(c.bold(`State migrations (relup verify: ${options.verification.how})`));
    if (options.verification.modules.length === 0) out.push(c.dim("  no stateful update: nothing to verify"));
    for (const m of options.verification.modules) {
      const mark = m.outcome === "verified" ? c.green("✓") : m.outcome === "unverified" ? c.yellow("?") : c.red("✗");
      out.push(`  ${mark} \`${m.module}\` vsn ${JSON.stringify(m.oldVsn)} → ${JSON.stringify(m.newVsn)}: ${m.text}`);
    }
    out.push("");
  }
  section(out, c, "Upgrade", plan.file.up, plan.reasons.up, supervisorsOf(plan), leavingProcesses(plan, "up"), packageReloadsOf(plan, "up"));
  const risky = [...risks(plan), ...plan.warnings.map(formatPlanWarning)];
  if (risky.length > 0) {
    out.push(c.bold("Risks"));
    for (const r of risky) out.push(`  ${c.yellow("!")} ${r}`);
    out.push("");
  }
  section(out, c, "Downgrade", plan.file.down, plan.reasons.down, supervisorsOf(plan), leavingProcesses(plan, "down"), packageReloadsOf(plan, "down"));
  return out.join("\n");
}

function section(out: string[], c: ReturnType<typeof pc.createColors>, title: string, script: readonly Instruction[], reasons: readonly string[], supervisors: ReadonlySet<string>, leaving: readonly string[] = [], reloads?: PackageReloads): void {
  out.push(c.bold(`${title}, ${plural(script.length, "step")}`));
  const width = String(script.length).length;
  const texts = describeScript(script, supervisors, reloads);
  script.forEach((i, n) => {
    const text = texts[n]!;
    out.push(`  ${String(n + 1).padStart(width)}. ${i.op === "point_of_no_return" ? c.magenta(text) : text}`);
  });
  const windows = suspendWindows(script);
  if (windows.length > 0) {
    out.push(c.dim("  processes suspended:"));
    for (const w of windows) out.push(c.dim(`    ${w}`));
  }
  if (leaving.length > 0) {
    out.push(c.dim("  processes whose module leaves:"));
    for (const l of leaving) out.push(c.dim(`    - ${l}`));
  }
  if (reasons.length > 0) {
    out.push(c.dim("  why this order:"));
    for (const r of reasons) out.push(c.dim(`    - ${r}`));
  }
  out.push("");
}

/** "`counter/counter`: steps 3-6", from each suspend to its resume. */
export function suspendWindows(script: readonly Instruction[]): string[] {
  const open = new Map<string, number>();
  const out: string[] = [];
  script.forEach((i, n) => {
    if (i.op === "suspend") for (const m of i.modules) open.set(m, n + 1);
    if (i.op === "resume") {
      for (const m of i.modules) {
        out.push(`\`${m}\`: steps ${open.get(m)}-${n + 1}`);
        open.delete(m);
      }
    }
  });
  return out;
}
