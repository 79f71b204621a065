/**
 * The release handler (OTP's release_handler), inside the node: unpack, check, install, make permanent,
 * roll back, remove, list. One operation at a time.
 *
 *   status     unpacked → (install) current → (permanent) permanent → (another made permanent) old
 * RELEASES never records `current`: a node that restarts boots the permanent release, so an install that
 * was not made permanent is undone by a restart.
 *
 * Before the first step of an install, the preflight refuses a plan that is not for this node: another
 * release, another running version or build (a stale plan), another target build, a script the plan
 * checker rejects, a plan whose steps do not follow from the two releases (check-plan-meaning.ts: a
 * state vsn change without its code_change, a stop or removal the releases do not call for), or a soft
 * purge that would find processes still running the code it drops (OTP's check_old_processes). Nothing
 * changes then. An install records itself (RELEASES with --permanent, its rollback record) before its
 * first step and commits the records after its last (staged-file.ts), so exit 1 means nothing changed. The processes a brutal purge will kill are reported by
 * check (`apply --dry-run`) and install.
 */
import { readFile, rm } from "node:fs/promises";
import { RelupFile as RelupFileSchema } from "../relup/instruction.ts";
import path from "node:path";
import { releaseIdentity } from "../release/release-file.ts";
import type { Instruction, RelupFile } from "../relup/instruction.ts";
import { execute, type Progress, type StepTiming } from "./executor.ts";
import type { ExecBarriers } from "./steps/barrier.ts";
import type { Node } from "./node.ts";
import { forecastPurges } from "./purge-forecast.ts";
import { RuntimeError } from "./issues/runtime-error.ts";
import type { Timeout } from "./runtime.ts";
import { killAll, waitForKills, type ProcessRef } from "./steps/purge.ts";
import { readReleasesFile, releaseDirOf, releasesFileText, unpackIntoRoot, writeReleasesFile, type ReleasesFile } from "./releases-file.ts";
import { StagingError, stageFiles } from "./staged-file.ts";
import { readRootConfig } from "./root-config.ts";
import { ReleaseReader } from "./release-reader.ts";
import { runningOldCode } from "./running-old-code.ts";
import { shippedRollbackPlan } from "./shipped-rollback-plan.ts";

export type ReleaseStatus = "unpacked" | "current" | "permanent" | "old";

export interface InstallOptions {
  /** how long each process's codeChange may take, for every module (overrides the plan's timeouts) */
  codeChangeTimeout?: Timeout;
  /** a plan that restarts the node (restart_new_emulator) is refused without it */
  allowRestart?: boolean;
  /** make the release permanent as part of the install: RELEASES is staged before the first step */
  permanent?: boolean;
  /** where the install waits at its barrier points (steps/barrier.ts, barrier-gate.ts); absent, they pass at once */
  barriers?: ExecBarriers;
}

/** What an install writes besides changing the code: its record for a rollback, and RELEASES when a release becomes permanent. */
interface Records {
  last?: boolean;
  releases?: (to: string) => ReleasesFile;
}

/** `file` with `version` permanent, and the release that was permanent old. */
function permanentIs(file: ReleasesFile, version: string): ReleasesFile {
  return { ...file, releases: file.releases.map((r) => ({ ...r, status: r.version === version ? "permanent" : r.status === "permanent" ? "old" : r.status })) };
}

/** What a failed write of the root's records was. */
function writeFailure(error: Error): { file: string; diskFull: boolean; errno: string } | { detail: string } {
  return error instanceof StagingError ? { file: error.file, diskFull: error.diskFull, errno: error.errno } : { detail: error.message };
}

/** The processes a purge of `module` kills (or, in a preflight, will kill). */
export interface KilledProcesses {
  module: string;
  processes: ProcessRef[];
}

/** What an install's preflight found: the direction, the steps, the modules compiled, the processes purges will kill. */
export interface CheckResult {
  direction: "up" | "down";
  steps: number;
  modules: number;
  killed: KilledProcesses[];
}

export interface RollbackResult {
  from: string;
  to: string;
  direction: "up" | "down";
  timings: StepTiming[];
  /** the processes the down section's purges killed (they still ran a module it removes) */
  killed: KilledProcesses[];
}

interface Installed {
  plan: RelupFile;
  direction: "up" | "down";
  from: string;
}

export class ReleaseHandler {
  #busy: Promise<unknown> = Promise.resolve();
  readonly #reader: ReleaseReader;
  /** how the running release was installed, for a hot rollback */
  #last: Installed | undefined;

  constructor(
    private readonly node: Node,
    private readonly root: string,
    private readonly options: { restartNewEmulator?: (version: string) => Promise<void>; reader?: ReleaseReader } = {},
  ) {
    this.#reader = options.reader ?? new ReleaseReader();
  }

  /** End the release reader's thread (the node is stopping). */
  close(): Promise<void> {
    return this.#reader.close();
  }

  /** Run operations one at a time. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#busy.then(fn, fn);
    this.#busy = next.catch(() => undefined);
    return next;
  }

  get currentVersion(): string {
    return this.node.release.version;
  }

  releases(): Promise<{ name: string; version: string; status: ReleaseStatus }[]> {
    return this.#serial(async () => {
      const file = await this.#read();
      return file.releases.map((r) => ({ name: file.name, version: r.version, status: r.version === this.currentVersion && r.status !== "permanent" ? "current" : r.status }));
    });
  }

  unpack(source: string): Promise<{ version: string; identity: string; existed: boolean; note?: string }> {
    return this.#serial(async () => {
      const file = await this.#read();
      const { loaded, kept, placed, orphan, replanned } = await unpackIntoRoot(this.root, source, (loaded) => {
        if (loaded.release.name !== file.name) throw new RuntimeError({ kind: "wrong-release", release: loaded.release.name, running: file.name, source });
        const known = file.releases.find((r) => r.version === loaded.release.version);
        if (known && known.identity !== loaded.identity) throw new RuntimeError({ kind: "existing-release", release: file.name, version: known.version, existing: known.identity, unpacking: loaded.identity });
        return known === undefined ? true : "same-build";
      }, (source, into) => this.#reader.read(source, into));
      const unpacked = { version: loaded.release.version, identity: loaded.identity };
      if (replanned) return { ...unpacked, existed: true, note: `${file.name} ${unpacked.version} was unpacked before from this same build (identity ${unpacked.identity.slice(0, 12)}…); the plans it ships changed since, so its directory now holds this build's plans` };
      if (kept) {
        // RELEASES not written (a full disk): the directory just placed goes too, so that nothing changed.
        await this.#write({ ...file, releases: [...file.releases, { ...unpacked, status: "unpacked" }] }).catch(async (error: unknown) => {
          if (placed) await rm(loaded.dir, { recursive: true, force: true });
          throw error;
        });
      }
      return { ...unpacked, existed: !kept, ...(orphan ? { note: orphan } : {}) };
    });
  }

  /** Preflight: everything install checks and reads, without changing the running code. */
  check(version: string, plan: RelupFile): Promise<CheckResult> {
    return this.#serial(() => this.#check(version, plan));
  }

  async #check(version: string, plan: RelupFile): Promise<CheckResult> {
    const prepared = await this.#prepare(version, plan);
    let modules = 0;
    for (const i of prepared.script) {
      if (i.op !== "load_object_code") continue;
      for (const m of i.modules) {
        const ref = `${i.application}/${m}`;
        this.node.readObjectCode(prepared.target.dir, prepared.target.apps, ref, prepared.target.code.get(ref));
        modules++;
      }
    }
    return { direction: prepared.direction, steps: prepared.script.length, modules, killed: prepared.killed };
  }

  /** `permanent` in the answer: whether the release installed is now the one the node boots (asked for, or already so). */
  install(version: string, plan: RelupFile, progress?: (event: Progress) => void, options: InstallOptions = {}): Promise<{ from: string; to: string; direction: "up" | "down"; timings: StepTiming[]; killed: KilledProcesses[]; permanent: boolean }> {
    return this.#serial(async () => {
      // With `permanent`, RELEASES is written as part of the install: it is complete, or nothing changed.
      const file = await this.#read();
      const installed = await this.#install(version, plan, progress, options, { last: true, ...(options.permanent ? { releases: (to: string) => permanentIs(file, to) } : {}) });
      if (options.permanent) await this.#dropOldCode(version);
      return { ...installed, permanent: options.permanent === true || file.releases.some((r) => r.version === version && r.status === "permanent") };
    });
  }

  async #install(version: string, plan: RelupFile, progress?: (event: Progress) => void, options: InstallOptions = {}, record: Records = { last: true }) {
    const prepared = await this.#prepare(version, plan);
    // A restart loses every process's in-memory state: only on the caller's explicit word (a rollback
    // goes back the way the install came, and is that word).
    const restarts = prepared.script.some((i) => i.op === "restart_new_emulator");
    if (!options.allowRestart && restarts) {
      throw new RuntimeError({ kind: "restart-not-allowed" });
    }
    const from = this.currentVersion;
    const installed: Installed = { plan, direction: prepared.direction, from };
    // Every file the install records is written now, before its first step: a disk that cannot take
    // them refuses the install while nothing has changed. RELEASES is renamed last: it is the commit.
    const staged = await this.#writing(() =>
      stageFiles([
        // Kept on disk too, so that a node that took over by restart_new_emulator can roll back.
        ...(record.last ? [{ file: this.#lastFile(), text: JSON.stringify({ ...installed, to: version }) }] : []),
        ...(record.releases ? [releasesFileText(this.root, record.releases(version))] : []),
      ]),
    );
    const killed: KilledProcesses[] = [];
    let timings: StepTiming[];
    try {
      timings = await execute(prepared.script, {
        port: this.node.port,
        target: prepared.target,
        onKilled: (module, process) => {
          const entry = killed.find((k) => k.module === module) ?? killed[killed.push({ module, processes: [] }) - 1]!;
          entry.processes.push(process);
          this.node.log("process killed at purge", { module, pid: process.pid });
        },
        ...(progress ? { progress } : {}),
        ...(options.codeChangeTimeout !== undefined ? { codeChangeTimeout: options.codeChangeTimeout } : {}),
        ...(options.barriers ? { barriers: options.barriers } : {}),
        ...(this.options.restartNewEmulator ? { restartNewEmulator: () => this.options.restartNewEmulator!(version) } : {}),
      });
    } catch (error) {
      await staged.discard();
      throw error;
    }
    this.node.switchTo(prepared.target.dir, prepared.target.release, prepared.target.apps);
    try {
      await staged.commit();
    } catch (error) {
      await this.#undo(from, plan, restarts, error as Error, options);
    }
    if (record.last) this.#last = installed;
    this.node.log("release installed", { from, to: version });
    return { from, to: version, direction: prepared.direction, timings, killed };
  }

  /**
   * The install ran but its records could not be renamed into place: it is undone (the same plan the
   * other way, in memory), so that the node runs what RELEASES says and the failure means "nothing changed".
   */
  async #undo(from: string, plan: RelupFile, restarted: boolean, cause: Error, options: InstallOptions): Promise<never> {
    const failed = { kind: "record-failed", root: this.root, from, to: this.currentVersion, write: writeFailure(cause) } as const;
    if (restarted) throw new RuntimeError({ ...failed, running: this.currentVersion, outcome: "taken-over" });
    try {
      await this.#install(from, plan, undefined, { ...options, barriers: undefined, allowRestart: true }, {});
    } catch (undoError) {
      throw new RuntimeError({ ...failed, running: this.currentVersion, outcome: "undo-failed", undoError: undoError instanceof Error ? undoError.message : String(undoError) });
    }
    throw new RuntimeError({ ...failed, running: this.currentVersion, outcome: "undone" });
  }

  permanent(version: string): Promise<void> {
    return this.#serial(async () => {
      if (version !== this.currentVersion) throw new RuntimeError({ kind: "bad-status", operation: "permanent", version, current: this.currentVersion });
      await this.#write(permanentIs(await this.#read(), version));
      await this.#dropOldCode(version);
    });
  }

  /**
   * Old code left by the install is dropped once its release is permanent: there is no going back to it
   * in memory. A module removed by the install and not purged by its plan still has processes running
   * it: they are killed, all of them before any code goes, so that none handles a message without its code.
   */
  async #dropOldCode(version: string): Promise<void> {
    const { table, runtime } = this.node;
    const purged = table.modules().filter((module) => table.old(module));
    const kills = killAll(runtime, new Map(purged.map((m) => [m, table.isRemoved(m) ? runningOldCode(runtime, m) : []])), (module, p) => this.node.log("process killed at purge", { module, pid: p.pid }));
    for (const module of purged) table.purge(module, "brutal");
    await waitForKills(kills, this.node);
    this.node.log("release made permanent", { version });
  }

  /**
   * Back to the previous release, hot: the `down` section of the plan that installed the running
   * release (or of the plan it ships). If the running release had been made permanent, the one rolled
   * back to becomes permanent again. It is an install like any other: `codeChangeTimeout` overrides the
   * plan's, and the processes its purges kill are reported.
   */
  rollback(progress?: (event: Progress) => void, options: Pick<InstallOptions, "codeChangeTimeout"> = {}): Promise<RollbackResult> {
    return this.#serial(async () => {
      const last = await this.#rollbackPlan();
      const file = await this.#read();
      const wasPermanent = file.releases.find((r) => r.version === this.currentVersion)?.status === "permanent";
      const from = this.currentVersion;
      // The same plan, the other way: #prepare finds the direction from the running and target versions.
      // If the running release was permanent, the one rolled back to becomes permanent: RELEASES is
      // staged before the first step, as for any install.
      const installed = await this.#install(last.from, last.plan, progress, { ...options, allowRestart: true }, wasPermanent ? { releases: (to) => permanentIs(file, to) } : {});
      this.#last = undefined;
      await rm(this.#lastFile(), { force: true });
      return { from, to: last.from, direction: installed.direction, timings: installed.timings, killed: installed.killed };
    });
  }

  /** The rollback's preflight (`relup rollback --dry-run`): what rollback would run, checked as install checks, changing nothing. */
  checkRollback(): Promise<CheckResult & { from: string; to: string }> {
    return this.#serial(async () => {
      const last = await this.#rollbackPlan();
      return { from: this.currentVersion, to: last.from, ...(await this.#check(last.from, last.plan)) };
    });
  }

  async #rollbackPlan(): Promise<Installed> {
    const last = this.#last ?? (await this.#recordedInstall()) ?? (await this.#shippedPlanInstall());
    if (!last) throw new RuntimeError({ kind: "no-plan", running: this.currentVersion });
    return last;
  }

  /**
   * Delete an unpacked or old release. Refused (unless forced) while the node still runs modules read
   * from its directory: modules no upgrade since has changed keep the code, and the files, of the
   * release they were first loaded from.
   */
  remove(version: string, options: { force?: boolean } = {}): Promise<void> {
    return this.#serial(async () => {
      const file = await this.#read();
      const entry = file.releases.find((r) => r.version === version);
      if (!entry) throw new RuntimeError({ kind: "no-such-release", release: file.name, version, root: this.root, operation: "remove" });
      if (entry.status === "permanent" || version === this.currentVersion) throw new RuntimeError({ kind: "bad-status", operation: "remove", version, status: entry.status === "permanent" ? "permanent" : "current" });
      const serving = this.node.table.modulesReadFrom(releaseDirOf(this.root, version));
      if (serving.length > 0 && options.force !== true) throw new RuntimeError({ kind: "release-in-use", version, root: this.root, modules: serving.slice(0, 5), count: serving.length });
      await this.#write({ ...file, releases: file.releases.filter((r) => r.version !== version) });
      await rm(releaseDirOf(this.root, version), { recursive: true, force: true });
    });
  }

  async #prepare(version: string, plan: RelupFile) {
    const file = await this.#read();
    if (!file.releases.some((r) => r.version === version)) throw new RuntimeError({ kind: "no-such-release", release: file.name, version, root: this.root, operation: "install" });
    if (plan.release !== this.node.release.name) throw new RuntimeError({ kind: "wrong-release", release: plan.release, running: this.node.release.name });
    const running = { version: this.currentVersion, identity: releaseIdentity(this.node.release) };
    const direction = plan.from.version === running.version && plan.to.version === version ? "up" : plan.to.version === running.version && plan.from.version === version ? "down" : undefined;
    const stale = { kind: "stale-plan", plan: { from: plan.from.version, to: plan.to.version }, running: running.version, target: version } as const;
    if (!direction) throw new RuntimeError({ ...stale, mismatch: { what: "versions" } });
    const [runningStamp, targetStamp] = direction === "up" ? [plan.from, plan.to] : [plan.to, plan.from];
    if (runningStamp.identity !== running.identity) throw new RuntimeError({ ...stale, mismatch: { what: "running-build", planned: runningStamp.identity, found: running.identity } });
    // Reading, hashing and verifying the target, the plan checker, the plan's meaning and the modules'
    // compile run in the release reader's thread (prepare-release.ts); the issues come back as data and
    // are reported here in the order the checks run.
    const { target, scriptIssues, meaningIssues, code } = await this.#reader.prepare({ dir: releaseDirOf(this.root, version), plan, direction, targetIdentity: targetStamp.identity, running: { release: this.node.release, apps: this.node.apps } });
    if (targetStamp.identity !== target.identity) throw new RuntimeError({ ...stale, mismatch: { what: "target-build", planned: targetStamp.identity, found: target.identity } });
    const script: Instruction[] = direction === "up" ? plan.up : plan.down;
    if (scriptIssues.length > 0) throw new RuntimeError({ kind: "bad-plan", issues: scriptIssues });
    if (meaningIssues.length > 0) throw new RuntimeError({ kind: "plan-meaning", issues: meaningIssues, from: plan.from.version, to: plan.to.version });
    // OTP's check_old_processes: a soft purge that would find processes still running the code refuses
    // the plan now, before anything changes; the processes a brutal purge will kill are reported.
    const purges = forecastPurges(script, this.node);
    const refused = purges.filter((p) => p.method === "soft_purge");
    if (refused.length > 0) throw new RuntimeError({ kind: "old-processes", refusals: refused.map(({ step, module, processes }) => ({ step, module, processes })) });
    const killed = purges.map(({ module, processes }) => ({ module, processes }));
    // Read again, as a node booting the target would: the env after the install is the target release's
    // defaults under these overrides. A bad file stops the install here, before anything changed.
    const config = await readRootConfig(this.root);
    return { direction: direction as "up" | "down", script, killed, target: { dir: target.dir, apps: target.apps, release: target.release, config, code: new Map(code.map((c) => [c.ref, c])) } };
  }

  #lastFile(): string {
    return path.join(this.root, "run", "last-install.json");
  }

  /** The install recorded by the node this one took over from (restart_new_emulator). */
  async #recordedInstall(): Promise<Installed | undefined> {
    const text = await readFile(this.#lastFile(), "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    const recorded = JSON.parse(text) as Installed & { to: string };
    return recorded.to === this.currentVersion ? { plan: RelupFileSchema.parse(recorded.plan), direction: recorded.direction, from: recorded.from } : undefined;
  }

  /** The plan shipped in the running release from the release the node came from (shipped-rollback-plan.ts). */
  async #shippedPlanInstall(): Promise<Installed | undefined> {
    const plan = await shippedRollbackPlan(this.node.releaseDir, this.currentVersion, (await this.#read()).releases);
    return plan ? { plan, direction: "up", from: plan.from.version } : undefined;
  }

  async #read(): Promise<ReleasesFile> {
    const file = await readReleasesFile(this.root);
    if (!file) throw new RuntimeError({ kind: "no-releases", root: this.root });
    return file;
  }

  #write(file: ReleasesFile): Promise<void> {
    return this.#writing(() => writeReleasesFile(this.root, file));
  }

  /** A write of the root's records that fails is a runtime issue that says nothing changed, and what to do. */
  async #writing<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof StagingError)) throw error;
      throw new RuntimeError({ kind: error.diskFull ? "disk-full" : "unwritable", root: this.root, file: error.file, errno: error.errno, running: this.currentVersion });
    }
  }
}
