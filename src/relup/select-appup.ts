/**
 * Pick the entries of a hand-written appup for one upgrade: the first `up` entry whose `from` matches
 * the running version and the first `down` entry whose `to` matches it (first match wins, as in
 * systools_relup). A `from`/`to` is an exact version or a semver range.
 */
import semver from "semver";
import type { AppupFile, AppupInstruction } from "../appup/instruction.ts";
import type { AppFile } from "../release/app-file.ts";
import type { PlanIssue } from "./issues.ts";

export type Selected = { ok: true; value: { up: AppupInstruction[]; down: AppupInstruction[] } } | { ok: false; issues: PlanIssue[] };

export function selectAppup(file: string, appup: AppupFile, from: AppFile, to: AppFile): Selected {
  const issues: PlanIssue[] = [];
  if (appup.application !== to.name) issues.push({ code: "appup-application-mismatch", file, expected: to.name, found: appup.application });
  if (appup.version !== to.version) issues.push({ code: "appup-version-mismatch", file, expected: to.version, found: appup.version });
  const specs = [
    ...appup.up.map((e, i) => ({ spec: e.from, field: `up[${i}].from` })),
    ...appup.down.map((e, i) => ({ spec: e.to, field: `down[${i}].to` })),
  ];
  for (const { spec, field } of specs) {
    if (semver.valid(spec) === null && semver.validRange(spec) === null) issues.push({ code: "appup-bad-version-spec", file, field, spec });
  }
  if (issues.length > 0) return { ok: false, issues };
  const up = appup.up.find((e) => matches(from.version, e.from));
  const down = appup.down.find((e) => matches(from.version, e.to));
  if (!up) issues.push({ code: "appup-no-path", file, direction: "up", version: from.version });
  if (!down) issues.push({ code: "appup-no-path", file, direction: "down", version: from.version });
  if (!up || !down) return { ok: false, issues };
  return { ok: true, value: { up: up.instructions, down: down.instructions } };
}

function matches(version: string, spec: string): boolean {
  return semver.valid(spec) !== null ? semver.eq(version, spec) : semver.satisfies(version, spec);
}
