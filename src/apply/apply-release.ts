/**
 * `relup apply`: hand a release to a running node and have it upgraded live. The plan is, in order of
 * preference: the one given (`--plan`), the one the newer release ships from the older version
 * (`plans/<older>-<newer>.json`), or, when that release ships no plan at all, one generated now from the
 * two releases (shown, and confirmed unless `yes`). A release that ships plans, none of them from the
 * running version, is refused with the paths it does ship. A given or shipped plan that is
 * not the one relup generate makes for the two releases is refused unless `allowEditedPlan` (see
 * edited-plan.ts). The node checks the plan before step one (stale plan, plan checker, the plan's meaning
 * against the two releases, object code) and rolls back on any failure.
 *
 * A plan that restarts the node (restart_new_emulator) loses every process's in-memory state: it is
 * refused unless `allowRestart`, before anything is asked or installed (see restart-impact.ts). A node
 * that dies during the install (its launcher's watchdog kills one that stops answering) is reported with
 * what was lost (see node-lost.ts).
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
import { listShippedPlans } from "../relup/list-shipped-plans.ts";
import { PLANS_DIR, planFileName } from "../release/release-file.ts";
import { controlRequest } from "../runtime/control-client.ts";
import type { Progress } from "../runtime/executor.ts";
import type { BarrierDecision, BarrierPoint } from "../runtime/steps/barrier.ts";
import type { KilledProcesses } from "../runtime/release-handler.ts";
import { releaseDirOf } from "../runtime/releases-file.ts";
import type { Timeout } from "../runtime/runtime.ts";
import { EditedPlan, editsOf, notGenerated } from "./edited-plan.ts";
import { answerBarriers, barrierRequest } from "./answer-barriers.ts";
import { requestWatchingSteps } from "./node-lost.ts";
import { formatRestartImpact, restartImpact, RestartNotAllowed, type RestartImpact } from "./restart-impact.ts";

export interface ApplyOptions {
  root: string;
  /** a release directory or tarball, or the version of a release already unpacked in the root */
  release: string;
  planFile?: string;
  /** apply a `planFile` that is not the plan relup generate makes for the two releases (it was edited) */
  allowEditedPlan?: boolean;
  dryRun?: boolean;
  permanent?: boolean;
  /** allow a plan that restarts the node (restart_new_emulator), losing every process's in-memory state */
  allowRestart?: boolean;
  /** how long each process's codeChange may take in this install, overriding the plan's timeouts */
  codeChangeTimeout?: Timeout;
  /** shown a generated plan (and, when it restarts the node, what that costs): true to go on */
  confirm: (plan: Plan, restart?: RestartImpact) => Promise<boolean>;
  progress?: (event: Progress) => void;
  /** how the plan was chosen, and other notes for the user */
  note?: (text: string) => void;
  /** the longest silence of the node during the install (see controlRequest); for tests */
  silenceMs?: number;
  /**
   * Decide the install's barrier points (a fleet rollout's node agent): each sync_nodes step of the plan
   * and, with `hold`, the point just before its point_of_no_return (id `point_of_no_return`) wait for
   * `decide`'s go or abort, at most their timeout (`holdTimeoutMs` for the hold; default 60 s), after
   * which the node aborts by itself. Abort or timeout: the install fails (`barrier-aborted`), undone in
   * memory. Without it, sync_nodes points pass at once, with a note.
   */
  barrier?: { hold?: boolean; holdTimeoutMs?: number; decide: (point: BarrierPoint) => Promise<BarrierDecision> };
}

export interface ApplyResult {
  from: string;
  to: string;
  direction?: "up" | "down";
  dryRun: boolean;
  permanent: boolean;
  check?: { steps: number; modules: number; killed: KilledProcesses[] };
  /** the plan restarts the node: why, and the processes that lose their state */
  restart?: RestartImpact;
  /** the processes a purge killed: they still ran a module the plan removed (with --dry-run: see check) */
  killed?: KilledProcesses[];
  /** how long each step took on the node */
  timings?: { op: string; ms: number }[];
  /** the release asked for is the one running: nothing was installed (made permanent, if asked and it was not) */
  unchanged?: { release: string; root: string; madePermanent: boolean };
}

interface NodeStatus {
  release: { name: string; version: string };
  pid: number;
  processCount: number;
}

export async function applyRelease(options: ApplyOptions): Promise<ApplyResult> {
  const root = path.resolve(options.root);
  const status = await controlRequest(root, { cmd: "status" });
  const running = status.release.version;
  const { version, unpackedNow } = await unpackIfPath(root, options.release, options.note);
  if (version === running) return unchanged(root, status.release.name, version, options);
  // A release this attempt unpacked stays only if it is installed: a dry run, a refusal or a failed
  // install leaves the root's releases as they were.
  const attempt = { unpackedNow, installed: false };
  try {
    return await applyUnpacked(root, status, version, attempt, options);
  } finally {
    if (unpackedNow && !attempt.installed) await forget(root, version, options.note);
  }
}

async function applyUnpacked(root: string, status: NodeStatus, version: string, attempt: { unpackedNow: boolean; installed: boolean }, options: ApplyOptions): Promise<ApplyResult> {
  const running = status.release.version;
  const chosen = await choosePlan(root, running, version, options);
  const restart = await restartImpact(root, chosen.file, running);
  if (restart && !options.allowRestart && !options.dryRun) {
    // A plan that is not for this node (stale, another release) is refused as such first: --allow-restart would not help it.
    await controlRequest(root, { cmd: "check", version, plan: chosen.file });
    throw new RestartNotAllowed(restart, attempt.unpackedNow ? version : undefined);
  }
  // Never silently: a restart is shown with the plan to confirm, or else noted here.
  if (restart && !chosen.generated && !options.dryRun) options.note?.(formatRestartImpact(restart));
  if (chosen.generated && !(await options.confirm(chosen.generated, restart))) throw new UserError("not applied: the plan was not confirmed", ExitCode.checkFailed);
  const plan = chosen.file;
  if (options.dryRun) {
    const check = await controlRequest(root, { cmd: "check", version, plan });
    return { from: running, to: version, direction: check.direction, dryRun: true, permanent: false, check, ...(restart ? { restart } : {}) };
  }
  const install = { cmd: "install" as const, version, plan, ...(restart ? { allowRestart: true } : {}), ...(options.permanent ? { permanent: true } : {}), ...(options.codeChangeTimeout !== undefined ? { codeChangeTimeout: options.codeChangeTimeout } : {}), ...barrierRequest(options.barrier) };
  const before = { pid: status.pid, version: running, processCount: status.processCount, target: version };
  const progress = answerBarriers(root, options);
  const installed = await requestWatchingSteps(root, install, before, { progress, ...(options.silenceMs !== undefined ? { timeout: options.silenceMs } : {}) });
  attempt.installed = true;
  return { from: running, to: version, direction: installed.direction, dryRun: false, permanent: installed.permanent, timings: installed.timings, killed: installed.killed, ...(restart ? { restart } : {}) };
}

/**
 * Applying the release that already runs changes nothing and succeeds: converge-style deploys rerun the
 * same apply. With `permanent`, the release is made permanent if it is not yet (what the rerun asks for).
 * The unpack before this already refused another build of the same version.
 */
async function unchanged(root: string, release: string, version: string, options: ApplyOptions): Promise<ApplyResult> {
  let madePermanent = false;
  if (options.permanent && !options.dryRun) {
    const releases = await controlRequest(root, { cmd: "releases" });
    if (releases.find((r) => r.version === version)?.status !== "permanent") {
      await controlRequest(root, { cmd: "permanent", version });
      madePermanent = true;
    }
  }
  return { from: version, to: version, dryRun: options.dryRun ?? false, permanent: options.permanent ?? false, unchanged: { release, root, madePermanent } };
}

/**
 * Remove a release this attempt unpacked; a node that is gone (lost during the install) is left to its
 * launcher. Asked with a short limit: after the CLI gave up on a silent install, the removal waits behind
 * it in the node's queue (and is refused there if that install succeeds after all).
 */
async function forget(root: string, version: string, note?: (text: string) => void): Promise<void> {
  try {
    await controlRequest(root, { cmd: "remove", version }, { timeout: 5_000 });
    note?.(`${version}, unpacked for this attempt, was removed again`);
  } catch {
    note?.(`${version} was unpacked for this attempt and could not be removed again: relup remove ${version} --root ${root}`);
  }
}

async function unpackIfPath(root: string, release: string, note?: (text: string) => void): Promise<{ version: string; unpackedNow: boolean }> {
  if (semver.valid(release) === release && !existsSync(release)) return { version: release, unpackedNow: false };
  const unpacked = await controlRequest(root, { cmd: "unpack", source: path.resolve(release) });
  note?.(unpacked.existed ? `${unpacked.version} was already unpacked (same build)` : `unpacked ${unpacked.version} into ${root}`);
  return { version: unpacked.version, unpackedNow: !unpacked.existed };
}

/** The plan to follow; `generated` when it was made now and must be confirmed. */
async function choosePlan(root: string, running: string, version: string, options: ApplyOptions): Promise<{ file: RelupFile; generated?: Plan }> {
  // A plan given or shipped is the one `relup generate` makes for the two releases, or was edited on purpose.
  const asReviewed = async (file: RelupFile, label: string): Promise<{ file: RelupFile }> => {
    const edits = await editsOf(root, file, { running, target: version });
    if (edits && !options.allowEditedPlan) throw new EditedPlan(label, edits);
    if (edits) options.note?.(`${notGenerated(label, edits)}\napplied as given (--allow-edited-plan): the node checks that it does what the two releases need before step one`);
    return { file };
  };
  if (options.planFile) {
    options.note?.(`using the plan ${options.planFile}`);
    return asReviewed(await readRelupFile(options.planFile), options.planFile);
  }
  const [older, newer] = semver.lt(version, running) ? [version, running] : [running, version];
  // OTP's UpFrom list: the newer release ships one plan per version it upgrades from; the one from the
  // older release is the plan of this upgrade (and of this downgrade, by its down section).
  const shipped = await listShippedPlans(releaseDirOf(root, newer));
  const rel = `${PLANS_DIR}/${planFileName(older, newer)}`;
  if (shipped.includes(rel)) {
    options.note?.(`using the plan shipped in ${newer} (${rel})`);
    const shippedFile = path.join(releaseDirOf(root, newer), rel);
    return asReviewed(await readRelupFile(shippedFile), shippedFile);
  }
  if (shipped.length > 0) throw new NoShippedPlan(newer, older, shipped);
  const result = generatePlan(await loadReleaseModel(releaseDirOf(root, older)), await loadReleaseModel(releaseDirOf(root, newer)));
  if (!result.ok) throw new PlanError(result.issues);
  options.note?.(`no plan given or shipped: generated one from ${older} and ${newer}${older === version ? " (its down section runs)" : ""}`);
  return { file: result.value.file, generated: result.value };
}

/** The release ships plans, none between the two versions: refused (exit 2) with the paths it has. */
export class NoShippedPlan extends UserError {
  constructor(newer: string, older: string, shipped: readonly string[]) {
    super(
      `${newer} ships no plan from ${older}: it ships ${shipped.join(", ")} (the upgrades from ${shipped.map((p) => path.posix.basename(p, ".json").slice(0, -(newer.length + 1))).join(", ")}). Nothing was changed. Fix: upgrade through a version it has a plan from, or generate the plan (relup generate <the ${older} release> <the ${newer} release> -o plans/), review it, and pass it with --plan plans/${planFileName(older, newer)}.`,
      ExitCode.badInput,
    );
  }
}
