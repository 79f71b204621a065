/**
 * The plan files a release may ship, checked strictly wherever a release is built or read: each
 * application's hand-written appup.json, and `plans/<from>-<to>.json` (the plans to this release, one per
 * version it upgrades from). The build checks the project's copies (so a mistake is reported against the
 * file the user edits); readers check the release's.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { APPUP_FILE, AppupFile, AppupInstruction } from "../appup/instruction.ts";
import type { ReleaseIssue } from "../release/issues.ts";
import { ReleaseError } from "../release/issues.ts";
import { parseJsonFile } from "../release/parse-json-file.ts";
import { appDir, isShippedPlan, planFileName, type ReleaseFile } from "../release/release-file.ts";
import type { AppFile } from "../release/app-file.ts";
import { RelupFile } from "./instruction.ts";

const APPUP_FIX = "correct the appup.json (docs/reference.md#appupjson lists its fields), then rebuild.";
const PLAN_FIX = "write it again with `relup generate <previous release> <this release> -o plans/`, then rebuild.";

export interface ShippedFile {
  /** its path inside the release */
  rel: string;
  /** how to name it in messages */
  label: string;
  text: string;
}

export function parseAppup(label: string, text: string, app: { name: string; version: string }): { appup?: AppupFile; issues: ReleaseIssue[] } {
  const parsed = parseJsonFile(label, text, AppupFile, APPUP_FIX);
  if (!parsed.ok) return { issues: parsed.issues.map((issue) => unknownOpIssue(issue, text) ?? issue) };
  const issues: ReleaseIssue[] = [];
  if (parsed.value.application !== app.name) issues.push({ code: "invalid-field", file: label, field: "application", detail: `is ${JSON.stringify(parsed.value.application)}, but the file belongs to ${JSON.stringify(app.name)}`, fix: APPUP_FIX });
  if (parsed.value.version !== app.version) issues.push({ code: "invalid-field", file: label, field: "version", detail: `is ${JSON.stringify(parsed.value.version)}, but the application is ${app.version}`, fix: "set `version` to the application's version in relup.config.json." });
  return issues.length > 0 ? { issues } : { appup: parsed.value, issues };
}

const APPUP_OPS = AppupInstruction.options.map((o) => o.shape.op.value);

/**
 * An instruction whose `op` is not an appup op says which op it found and what to do about it: an op
 * is never dropped, so an OTP instruction relup does not have (restart_emulator) must be taken out by hand.
 */
function unknownOpIssue(issue: ReleaseIssue, text: string): ReleaseIssue | undefined {
  if (issue.code !== "invalid-field") return undefined;
  const at = /^(up|down)\[(\d+)\]\.instructions\[(\d+)\]\.op$/.exec(issue.field);
  if (!at) return undefined;
  const data = JSON.parse(text) as Record<string, { instructions?: { op?: unknown }[] }[] | undefined>;
  const op = data[at[1]!]?.[Number(at[2])]?.instructions?.[Number(at[3])]?.op;
  if (typeof op !== "string" || (APPUP_OPS as readonly string[]).includes(op)) return undefined;
  const why = op === "restart_emulator" ? "; relup restarts a node only with restart_new_emulator, which hands over its sockets" : "";
  return {
    ...issue,
    detail: `${JSON.stringify(op)} is not an appup instruction (the ops are ${APPUP_OPS.join(", ")})${why}`,
    fix: "correct the appup.json: remove it, or write what it should do with the ops above (docs/reference.md#appupjson), then rebuild.",
  };
}

export function shippedFileIssues(file: ShippedFile, release: { name: string; version: string }, apps: readonly { name: string; version: string }[]): ReleaseIssue[] {
  if (isShippedPlan(file.rel)) {
    const parsed = parseJsonFile(file.label, file.text, RelupFile, PLAN_FIX);
    if (!parsed.ok) return parsed.issues;
    const plan = parsed.value;
    if (plan.release !== release.name || plan.to.version !== release.version) {
      return [{ code: "invalid-field", file: file.label, field: "to.version", detail: `is a plan to ${plan.release} ${plan.to.version}, but this release is ${release.name} ${release.version}`, fix: PLAN_FIX }];
    }
    // The name is how `apply` finds the plan from the running version: it must say what the file holds.
    const name = planFileName(plan.from.version, plan.to.version);
    if (path.posix.basename(file.rel) !== name) {
      return [{ code: "invalid-field", file: file.label, field: "from.version", detail: `is ${plan.from.version}, but the file is named ${path.posix.basename(file.rel)}: a plan from ${plan.from.version} to ${plan.to.version} is plans/${name}`, fix: `rename it to plans/${name}, or write the plan the name says with \`relup generate <the release it names> <this release> -o plans/\`, then rebuild.` }];
    }
    return [];
  }
  const app = apps.find((a) => file.rel === `${appDir(a)}/${APPUP_FILE}`);
  return app ? parseAppup(file.label, file.text, app).issues : [];
}

/**
 * A shipped plan leads to the release being built, by identity: a plan generated before the sources
 * changed names another build, and `apply` would refuse it on the node, at deploy. Called by the build
 * once release.json is made (the plan was already parsed by shippedFileIssues).
 */
export function shippedPlanIdentityIssues(file: ShippedFile, release: { name: string; version: string; identity: string }): ReleaseIssue[] {
  if (!isShippedPlan(file.rel)) return [];
  const parsed = parseJsonFile(file.label, file.text, RelupFile, PLAN_FIX);
  if (!parsed.ok || parsed.value.to.identity === release.identity) return [];
  const short = (id: string) => `${id.slice(0, 12)}…`;
  const from = parsed.value.from.version;
  return [
    {
      code: "invalid-field",
      file: file.label,
      field: "to.identity",
      detail: `is ${short(parsed.value.to.identity)}, the identity of another build of ${release.name} ${release.version}; this build is ${short(release.identity)} (its sources or packages changed after the plan was generated), so \`relup apply\` would refuse the plan as stale`,
      fix: `regenerate it from this build: remove ${file.label}, \`relup build --force\` (this build, without the stale plan), \`relup generate <the ${from} release> <the new ${release.version} build> -o ${path.dirname(file.label)}/\`, then \`relup build\` again to ship it (same release: no --force needed). If ${release.version} was already released, this is a new release instead: bump \`version\` in relup.config.json (the release's and the changed application's) and generate its plans.`,
    },
  ];
}

/** Check the plan files a read release ships; throws ReleaseError (exit 2) listing what is wrong. */
export async function checkShippedPlans(dir: string, source: string, release: ReleaseFile, apps: readonly AppFile[]): Promise<Map<string, { file: string; appup: AppupFile }>> {
  const issues: ReleaseIssue[] = [];
  const appups = new Map<string, { file: string; appup: AppupFile }>();
  for (const app of apps) {
    const rel = `${appDir(app)}/${APPUP_FILE}`;
    if (release.files[rel] === undefined) continue;
    const label = `${source}:${rel}`;
    const parsed = parseAppup(label, await readFile(path.join(dir, rel), "utf8"), app);
    issues.push(...parsed.issues);
    if (parsed.appup) appups.set(app.name, { file: label, appup: parsed.appup });
  }
  for (const rel of Object.keys(release.files).filter(isShippedPlan)) {
    const text = await readFile(path.join(dir, rel), "utf8");
    issues.push(...shippedFileIssues({ rel, label: `${source}:${rel}`, text }, release, apps));
  }
  if (issues.length > 0) throw new ReleaseError(issues);
  return appups;
}
