/** A verify report for people: a line per stateful update, and for a failure the shrunk state and what went wrong. */
import pc from "picocolors";
import type { PlanVerification } from "../relup/render/describe.ts";
import type { ModuleVerification, ReportedFailure, VerifyReport } from "./report.ts";
import { DEFAULT_RUNS, DEFAULT_TIME_LIMIT_MS } from "./verify-releases.ts";

const PROPERTY_TEXT: Record<ReportedFailure["property"], string> = {
  "up-and-back": "a state of the old version, migrated up and back down",
  up: "a state of the old version, kept as it is by the new code (soft update)",
  down: "a state of the new version, migrated down",
  live: "a live state, migrated up and back down",
};

/** The property text of a failure, for its module's kind of update. */
function propertyText(f: ReportedFailure, m: ModuleVerification): string {
  if (m.change === "soft" && f.property === "down") return "a state of the new version, kept as it is by the old code (soft update)";
  if (m.change === "soft" && f.property === "live") return "a live state, kept as it is by the new code (soft update)";
  return PROPERTY_TEXT[f.property];
}

/** `vsn 1 → 2`, or for a soft update, which keeps the state, `vsn 2 (soft)`. */
function vsnText(m: ModuleVerification): string {
  const vsns = m.oldVsn === m.newVsn ? JSON.stringify(m.newVsn) : `${JSON.stringify(m.oldVsn)} → ${JSON.stringify(m.newVsn)}`;
  return `vsn ${vsns}${m.change === "soft" ? " (soft)" : ""}`;
}

/** One line on a module's verification, also used by `relup generate --verify` in the plan (without the seed, which its heading gives). */
export function verificationSummary(m: ModuleVerification, report: Pick<VerifyReport, "seed" | "mode">, options: { seed?: boolean } = {}): string {
  switch (m.status) {
    case "verified": {
      const seed = options.seed === false ? "" : ` (seed ${report.seed})`;
      const generated =
        m.change === "soft"
          ? `${count(m.runs.up, "state")} of the old version fit the new stateSchema as they are, ${count(m.runs.down, "state")} of the new version the old one`
          : `${count(m.runs.upAndBack, "state")} up and back, ${count(m.runs.down, "state")} down`;
      const lossy = m.lossy ? "; declared lossy, round trip not required" : "";
      if (report.mode !== "live") return `verified: ${generated}${seed}${lossy}`;
      const live = m.runs.live > 0 ? `${count(m.runs.live, "live state")}` : "no live state (no process of it runs in the node)";
      return `verified on ${live}, and ${generated}, seeded with the live values${seed}${lossy}`;
    }
    case "failed": {
      const f = m.failures[0]!;
      const more = m.failures.length > 1 ? ` (and ${m.failures.length - 1} more)` : "";
      return `FAILED: ${f.direction} ${f.check}: ${f.message}${more}`;
    }
    case "unverified":
      return `unverified: ${m.reason}`;
    case "error":
      return `could not verify: ${m.reason}`;
  }
}

export function renderVerifyReport(report: VerifyReport, options: { color: boolean; command: string }): string {
  const c = pc.createColors(options.color);
  const out: string[] = [];
  const tally = (s: ModuleVerification["status"]) => report.modules.filter((m) => m.status === s).length;
  const soft = report.modules.filter((m) => m.change === "soft").length;
  const what = report.mode === "live" ? `live states, and ${report.runs} states per property seeded with their values` : `${report.runs} states per property`;
  out.push(
    `${report.release} ${report.from} → ${report.to}: ${count(report.modules.length - soft, "stateful update")}${soft ? `, ${count(soft, "soft update")}` : ""}, ${tally("verified")} verified, ${tally("failed")} failed, ${tally("unverified")} unverified${tally("error") ? `, ${tally("error")} not checked` : ""} (${what}, seed ${report.seed}, ${report.ms} ms)`,
  );
  if (report.modules.length === 0) out.push("  the plan changes the code of no server: nothing to verify (a server reloaded only because its npm packages change keeps its state as it is)");
  for (const m of report.modules) {
    const mark = m.status === "verified" ? c.green("✓") : m.status === "unverified" ? c.yellow("?") : c.red("✗");
    out.push(`  ${mark} ${m.module} ${vsnText(m)}: ${m.status === "failed" ? c.red(`FAILED (${count(m.failures.length, "failing state")})`) : verificationSummary(m, report)} [${m.ms} ms]`);
    for (const f of m.failures.slice(0, report.mode === "live" ? 20 : 2)) out.push(...renderFailure(f, m, report, options.command));
    if (m.failures.length > 20) out.push(`      … ${m.failures.length - 20} more failing states (--format json lists them all)`);
  }
  for (const u of report.uncopyable) out.push(`  ${c.yellow("!")} process ${u.pid} (${u.module}): ${u.reason}; not checked`);
  return out.join("\n") + "\n";
}

function renderFailure(f: ReportedFailure, m: ModuleVerification, report: VerifyReport, command: string): string[] {
  const out = [`      ${f.property === "live" ? `process ${f.pid}${f.name ? ` (${f.name})` : ""}: ` : ""}${f.direction}: ${f.message}`];
  out.push(`      state: ${propertyText(f, m)}${f.shrinks !== undefined ? ` (shrunk in ${count(f.shrinks, "step")})` : ""}:`);
  out.push(...indent(f.counterexample, 8));
  if (f.difference) out.push(`      at ${f.difference.path}: expected ${f.difference.expected}, got ${f.difference.actual}`);
  for (const issue of f.issues ?? []) out.push(`      zod: ${issue.path.length ? issue.path.join(".") : "(root)"}: ${issue.message} (${issue.code})`);
  if (f.result !== undefined && (f.issues || !f.difference)) out.push(`      codeChange returned:`, ...indent(f.result, 8));
  if (f.seed !== undefined) out.push(`      replay: ${command} --seed ${f.seed}${report.runs !== DEFAULT_RUNS ? ` --runs ${report.runs}` : ""}${report.timeLimitMs !== DEFAULT_TIME_LIMIT_MS ? ` --time-limit ${report.timeLimitMs}` : ""}`);
  return out;
}

function indent(text: string, n: number): string[] {
  return text.split("\n").map((line) => " ".repeat(n) + line);
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`;
}

/** The report as the plan views show it (`relup generate --verify`). */
export function planVerification(report: VerifyReport): PlanVerification {
  return {
    how: report.mode === "live" ? `live states, and ${report.runs} generated states per direction seeded with their values, seed ${report.seed}` : `${report.runs} generated states per direction, seed ${report.seed}`,
    modules: report.modules.map((m) => {
      const text = verificationSummary(m, report, { seed: false });
      const f = m.failures[0];
      return { module: m.module, oldVsn: m.oldVsn, newVsn: m.newVsn, outcome: m.status, text: f ? `${text}; shrunk state: ${f.counterexample.replace(/\s*\n\s*/g, " ")}` : text };
    }),
  };
}
