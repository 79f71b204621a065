/**
 * `relup apply`: hand a release to a running node and have it upgraded live. The plan is, in order of
 * preference: the one given (`--plan`), the one the release ships if it leads from the running version,
 * or one generated now from the two releases (shown, and confirmed unless `yes`). The node checks the
 * plan before step one (stale plan, plan checker, object code) and rolls back on any failure.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import semver from "semver";
import { ExitCode, UserError } from "../errors.ts";
import { generatePlan, type Plan } from "../relup/generate-plan.ts";
import type { RelupFile } from "../relup/instruction.ts";
import { PlanError } from "../relup/issues.ts";
import { loadReleaseModel } from "../relup/load-release-model.ts";
import { readRelupFile } from "../relup/relup-file-io.ts";
import { controlRequest } from "../runtime/control-client.ts";
import type { Progress } from "../runtime/executor.ts";
import { releaseDirOf } from "../runtime/releases-file.ts";

export interface ApplyOptions {
  root: string;
  /** a release directory or tarball, or the version of a release already unpacked in the root */
  release: string;
  planFile?: string;
  dryRun?: boolean;
  permanent?: boolean;
  /** shown a generated plan: true to go on */
  confirm: (plan: Plan) => Promise<boolean>;
  progress?: (event: Progress) => void;
  /** how the plan was chosen, and other notes for the user */
  note?: (text: string) => void;
}

export interface ApplyResult {
  from: string;
  to: string;
  direction?: "up" | "down";
  dryRun: boolean;
  permanent: boolean;
  check?: { steps: number; modules: number };
  /** how long each step took on the node */
  timings?: { op: string; ms: number }[];
  /** the release asked for is the one running: nothing was installed (made permanent, if asked and it was not) */
  unchanged?: { release: string; root: string; madePermanent: boolean };
}

export async function applyRelease(options: ApplyOptions): Promise<ApplyResult> {
  const root = path.resolve(options.root);
  const status = (await controlRequest(root, { cmd: "status" })) as { release: { name: string; version: string } };
  const running = status.release.version;
  const version = await unpackIfPath(root, options.release, options.note);
  if (version === running) return unchanged(root, status.release.name, version, options);
  const plan = await choosePlan(root, running, version, options);
  if (options.dryRun) {
    const check = (await controlRequest(root, { cmd: "check", version, plan })) as { steps: number; modules: number; direction: "up" | "down" };
    return { from: running, to: version, direction: check.direction, dryRun: true, permanent: false, check };
  }
  const installed = (await controlRequest(root, { cmd: "install", version, plan }, options.progress ? { onProgress: (e) => options.progress!(e as Progress) } : {})) as { direction: "up" | "down"; timings: { op: string; ms: number }[] };
  if (options.permanent) await controlRequest(root, { cmd: "permanent", version });
  return { from: running, to: version, direction: installed.direction, dryRun: false, permanent: options.permanent ?? false, timings: installed.timings };
}

/**
 * Applying the release that already runs changes nothing and succeeds: converge-style deploys rerun the
 * same apply. With `permanent`, the release is made permanent if it is not yet (what the rerun asks for).
 * The unpack before this already refused another build of the same version.
 */
async function unchanged(root: string, release: string, version: string, options: ApplyOptions): Promise<ApplyResult> {
  let madePermanent = false;
  if (options.permanent && !options.dryRun) {
    const releases = (await controlRequest(root, { cmd: "releases" })) as { version: string; status: string }[];
    if (releases.find((r) => r.version === version)?.status !== "permanent") {
      await controlRequest(root, { cmd: "permanent", version });
      madePermanent = true;
    }
  }
  return { from: version, to: version, dryRun: options.dryRun ?? false, permanent: options.permanent ?? false, unchanged: { release, root, madePermanent } };
}

async function unpackIfPath(root: string, release: string, note?: (text: string) => void): Promise<string> {
  if (semver.valid(release) === release && !existsSync(release)) return release;
  const unpacked = (await controlRequest(root, { cmd: "unpack", source: path.resolve(release) })) as { version: string; existed: boolean };
  note?.(unpacked.existed ? `${unpacked.version} was already unpacked (same build)` : `unpacked ${unpacked.version} into ${root}`);
  return unpacked.version;
}

async function choosePlan(root: string, running: string, version: string, options: ApplyOptions): Promise<RelupFile> {
  if (options.planFile) {
    options.note?.(`using the plan ${options.planFile}`);
    return readRelupFile(options.planFile);
  }
  const [older, newer] = semver.lt(version, running) ? [version, running] : [running, version];
  const shipped = path.join(releaseDirOf(root, newer), "relup.json");
  if (existsSync(shipped)) {
    const plan = await readRelupFile(shipped);
    if (plan.from.version === older && plan.to.version === newer) {
      options.note?.(`using the plan shipped in ${newer} (relup.json)`);
      return plan;
    }
  }
  const result = generatePlan(await loadReleaseModel(releaseDirOf(root, older)), await loadReleaseModel(releaseDirOf(root, newer)));
  if (!result.ok) throw new PlanError(result.issues);
  options.note?.(`no plan given or shipped: generated one from ${older} and ${newer}${older === version ? " (its down section runs)" : ""}`);
  if (!(await options.confirm(result.value))) throw new UserError("not applied: the plan was not confirmed", ExitCode.checkFailed);
  return result.value.file;
}
