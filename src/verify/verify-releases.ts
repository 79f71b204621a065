/**
 * `relup verify`: check the state migrations of an upgrade before they touch production.
 *
 * The plan between the two releases names every stateful update (a `code_change` of a server module).
 * For each, a worker thread loads the module's old and new code and property-tests the new
 * `codeChange` against the `stateSchema` both versions export (check-migration.ts), or, live, runs it
 * on copies of the states the running node holds. The CLI's thread only reads the releases, starts
 * the worker, and watches it: a worker that reports nothing for too long is stopped.
 */
import path from "node:path";
import { Worker } from "node:worker_threads";
import { workerEntry } from "../runtime/entry-args.ts";
import { ExitCode, UserError } from "../errors.ts";
import { readRelease, type LoadedRelease } from "../release/read-release.ts";
import { generatePlan, type Plan } from "../relup/generate-plan.ts";
import { PlanError } from "../relup/issues.ts";
import { releaseModelOf } from "../relup/load-release-model.ts";
import { controlRequest } from "../runtime/control-client.ts";
import { readRootConfig } from "../runtime/root-config.ts";
import { releaseDirOf } from "../runtime/releases-file.ts";
import type { ModuleVerification, ReportedFailure, VerifyReport, VerifySubject } from "./report.ts";
import type { LiveState, WorkerJob, WorkerMessage } from "./worker.ts";

export interface VerifyOptions {
  /** the release upgraded from; with `live` it may be left out: the node's own release is read */
  from?: string;
  to: string;
  /** states per property and module (default 1000) */
  runs?: number;
  /** fast-check's seed (default DEFAULT_SEED); a failure report gives the one that found it */
  seed?: number;
  /** longest one codeChange call may take (default 1000 ms) */
  timeLimitMs?: number;
  /** run on copies of the states of the node running in this release root instead of generated ones */
  live?: { root: string };
  /** the worker is stopped when it reports nothing for this long (default 60 s, or 10 time limits) */
  stallMs?: number;
  /** the environment of the worker, that the release's code reads as process.env (default: this process's) */
  env?: NodeJS.ProcessEnv;
  /** where what the release's code prints goes (default: this process's stderr, so that stdout stays the report) */
  output?: (text: string) => void;
}

export const DEFAULT_RUNS = 1000;
/**
 * The generator's seed unless one is given: fixed, so the same releases give the same report (and the
 * same plan comment with `generate --verify`) on every run; reports print it. Another seed explores other
 * states: `--seed N`.
 */
export const DEFAULT_SEED = 1;
export const DEFAULT_TIME_LIMIT_MS = 1000;

/**
 * The stateful updates of a plan: every server module whose processes it suspends, migrated with
 * codeChange (advanced) or kept as they are (soft: the state must still fit the new version's schema).
 */
export function verifySubjects(plan: Plan): VerifySubject[] {
  const subjects: VerifySubject[] = [];
  const diffByApp = new Map(plan.diff.changed.map((d) => [d.name, d]));
  const migrated = new Map(plan.file.up.flatMap((i) => (i.op === "code_change" ? i.modules.map((m) => [m.module, m.extra] as const) : [])));
  const suspended = new Set(plan.file.up.flatMap((i) => (i.op === "suspend" ? i.modules : [])));
  for (const module of [...new Set([...migrated.keys(), ...suspended])]) {
    const [app, name] = module.split("/") as [string, string];
    const change = diffByApp.get(app);
    const oldMeta = change?.from.modules.find((m) => m.name === name);
    const newMeta = change?.to.modules.find((m) => m.name === name);
    if (!oldMeta || !newMeta || newMeta.behaviour !== "server") continue;
    const advanced = migrated.has(module);
    subjects.push({ module, change: advanced ? "advanced" : "soft", oldVsn: oldMeta.vsn, newVsn: newMeta.vsn, extra: advanced ? migrated.get(module) : null });
  }
  return subjects.sort((a, b) => a.module.localeCompare(b.module));
}

export async function verifyReleases(options: VerifyOptions): Promise<VerifyReport> {
  return (await verifyReleasesWithPlan(options)).report;
}

/** As verifyReleases, and the plan it verified: `generate --verify` prints that plan without reading the releases again. */
export async function verifyReleasesWithPlan(options: VerifyOptions): Promise<{ report: VerifyReport; plan: Plan }> {
  const started = performance.now();
  const runs = options.runs ?? DEFAULT_RUNS;
  const seed = options.seed ?? DEFAULT_SEED;
  const opened: LoadedRelease[] = [];
  try {
    const fromSource = options.from ?? (await runningReleaseDir(options.live?.root));
    const from = await readRelease(fromSource);
    opened.push(from);
    const to = await readRelease(options.to);
    opened.push(to);
    const result = generatePlan(await releaseModelOf(from, fromSource), await releaseModelOf(to, options.to));
    if (!result.ok) throw new PlanError(result.issues);
    const subjects = verifySubjects(result.value);
    const job: WorkerJobInput = {
      from: { dir: from.dir, apps: from.apps, version: from.release.version },
      to: { dir: to.dir, apps: to.apps, version: to.release.version },
      subjects,
      runs,
      seed,
      timeLimitMs: options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS,
    };
    let uncopyable: VerifyReport["uncopyable"] = [];
    if (options.live && subjects.length > 0) {
      const live = await liveStates(options.live.root, from, subjects);
      job.live = live.states;
      job.config = await readRootConfig(options.live.root);
      uncopyable = live.uncopyable;
    }
    const modules = subjects.length === 0 ? [] : await runWorker(job, { stallMs: options.stallMs ?? Math.max(60_000, 10 * job.timeLimitMs), env: options.env ?? process.env, output: options.output ?? ((text) => process.stderr.write(text)) });
    const report: VerifyReport = {
      release: from.release.name,
      from: from.release.version,
      to: to.release.version,
      mode: options.live ? "live" : "properties",
      seed,
      runs,
      timeLimitMs: job.timeLimitMs,
      modules,
      uncopyable,
      ms: Math.round(performance.now() - started),
    };
    return { report, plan: result.value };
  } finally {
    for (const loaded of opened) await loaded.close();
  }
}

/** The directory of the release the node at `root` runs, for a live check given only the target. */
async function runningReleaseDir(root: string | undefined): Promise<string> {
  if (root === undefined) throw new UserError("verify needs the release upgraded from, or a live node to read it from. Fix: `relup verify <from> <to>`, or `relup verify <to> --live --root DIR`.", ExitCode.badInput);
  const status = await controlRequest(root, { cmd: "status" });
  return releaseDirOf(root, status.release.version);
}

/** Copies of the states of the node's processes that the plan would migrate. */
async function liveStates(root: string, from: LoadedRelease, subjects: VerifySubject[]): Promise<{ states: LiveState[]; uncopyable: VerifyReport["uncopyable"] }> {
  const answer = await controlRequest(root, { cmd: "states", modules: subjects.map((s) => s.module) });
  if (answer.release.name !== from.release.name || answer.release.version !== from.release.version) {
    throw new UserError(
      `${root}: the node runs ${answer.release.name} ${answer.release.version}, not ${from.release.name} ${from.release.version}; a live check migrates the states of the release the plan upgrades from. Fix: give the release the node runs as <from>.`,
      ExitCode.badInput,
    );
  }
  const states: LiveState[] = [];
  const uncopyable: VerifyReport["uncopyable"] = [];
  for (const p of answer.processes) {
    if ("error" in p) uncopyable.push({ pid: p.pid, module: p.module, reason: p.error });
    else states.push({ module: p.module, pid: p.pid, name: p.name, state: Buffer.from(p.state, "base64") });
  }
  return { states, uncopyable };
}

const WORKER_ENTRY = workerEntry(import.meta.dirname, "worker");
/**
 * How often the watch on a running codeChange call is read, and the grace beyond its time limit: short
 * in the fast worker (an overrun there only sends the module on to a guarded worker), generous in the
 * guarded one, whose vm timeout interrupts a loop at the limit itself; its watch is there for what that
 * cannot interrupt (a loop after an await), and must not take an interrupted call that a loaded machine
 * is slow to report for one.
 */
const WATCH_EVERY_MS = 25;
const WATCH_GRACE_MS = 100;
const GUARDED_WATCH_GRACE_MS = 1_000;

type WorkerJobInput = Omit<WorkerJob, "watch" | "guarded">;

/**
 * Run the job in a worker thread. Calls run watched (fast); when one overruns its time limit in a
 * synchronous loop, that worker is stopped and the modules it had not finished run again in a guarded
 * worker, where the loop is interrupted inside the thread and the state that caused it is shrunk.
 */
async function runWorker(job: WorkerJobInput, how: WorkerOptions): Promise<ModuleVerification[]> {
  const results: ModuleVerification[] = [];
  let guarded = false;
  while (results.length < job.subjects.length) {
    const rest = { ...job, subjects: job.subjects.slice(results.length) };
    const outcome = await runOnce(rest, guarded, how, (result) => results.push(result));
    if (outcome === "done") break;
    if (guarded) {
      // Even under vm timeouts the call did not end: a loop after an await. The module fails on the
      // state that was being checked, unshrunk, and the next ones run in a fresh worker.
      const subject = job.subjects[results.length]!;
      results.push({
        ...subject,
        status: "failed",
        runs: { upAndBack: 0, up: 0, down: 0, live: 0 },
        lossy: false,
        ms: 0,
        failures: [
          {
            property: outcome.property ?? "up-and-back",
            check: "timeout",
            direction: "up",
            message: `codeChange did not return within ${job.timeLimitMs} ms and could not be interrupted (an endless loop after an await?); the worker was stopped, and the state is not shrunk`,
            counterexample: outcome.state ?? "(unknown)",
          },
        ],
      });
    }
    guarded = true;
  }
  return results;
}

/** How a worker is run: stopped after `stallMs` without a message, with `env` as its process.env, its prints to `output`. */
interface WorkerOptions {
  stallMs: number;
  env: NodeJS.ProcessEnv;
  output: (text: string) => void;
}

type Outcome = "done" | { overran: true; property?: ReportedFailure["property"]; state?: string };

/** One worker: "done", or "overran" when a call ran past its limit and the worker was stopped. */
function runOnce(job: WorkerJobInput, guarded: boolean, { stallMs, env, output }: WorkerOptions, onResult: (result: ModuleVerification) => void): Promise<Outcome> {
  const watch = { buffer: new SharedArrayBuffer(8), epoch: Date.now() };
  const cells = new Int32Array(watch.buffer);
  return new Promise((resolve, reject) => {
    let finished = 0;
    const worker = new Worker(WORKER_ENTRY, { workerData: { ...job, watch, guarded } satisfies WorkerJob, stdout: true, stderr: true, env });
    // What user code prints goes to `output` (stderr), so that stdout stays the report (and --format json parses).
    worker.stdout.setEncoding("utf8").on("data", output);
    worker.stderr.setEncoding("utf8").on("data", output);
    let settled = false;
    let stall: NodeJS.Timeout;
    let checking: { property?: ReportedFailure["property"]; state?: string } = {};
    const current = () => job.subjects[finished]?.module ?? "the release";
    const settle = (outcome: Outcome | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(stall);
      clearInterval(overrun);
      void worker.terminate();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const arm = () => {
      clearTimeout(stall);
      stall = setTimeout(() => {
        settle(new UserError(`verify: stopped after ${stallMs} ms without progress while verifying ${current()} (does its top-level code or a codeChange never return?). Fix: look for an endless loop or a promise that never settles there.`, ExitCode.checkFailed));
      }, stallMs);
    };
    const overrun = setInterval(() => {
      if (Atomics.load(cells, 0) === 1 && Date.now() - watch.epoch - Atomics.load(cells, 1) > job.timeLimitMs + (guarded ? GUARDED_WATCH_GRACE_MS : WATCH_GRACE_MS)) settle({ overran: true, ...checking });
    }, WATCH_EVERY_MS);
    arm();
    worker.on("message", (message: WorkerMessage) => {
      arm();
      if (message.type === "checking") checking = { property: message.property, state: message.state };
      if (message.type === "module") {
        finished++;
        checking = {};
        onResult(message.result);
      }
      if (message.type === "done") settle("done");
    });
    worker.on("error", (error) => {
      settle(new UserError(`verify: ${current()}: ${error.message}. Fix: the module's code failed outside codeChange (while loading?); run its tests.`, ExitCode.checkFailed));
    });
    worker.on("exit", (code) => settle(new UserError(`verify: the worker ended (exit code ${code}) while verifying ${current()}, before it finished (does its code call process.exit?)`, ExitCode.checkFailed)));
  });
}

/** The exit code a report calls for: 1 when a module failed or could not be checked, or (strict) was unverified. */
export function verifyExitCode(report: VerifyReport, strict: boolean): ExitCode {
  const bad = report.modules.some((m) => m.status === "failed" || m.status === "error" || (strict && m.status === "unverified"));
  return bad || (strict && report.uncopyable.length > 0) ? ExitCode.checkFailed : ExitCode.ok;
}
