/**
 * The verify worker: a worker thread that loads the two versions of each module to verify into module
 * tables of its own and runs the checks of check-migration.ts against them, so that user code never
 * runs in the CLI's thread. It posts one result per module, and a heartbeat while it works so that
 * the CLI can tell a busy worker from a stuck one.
 *
 * `relup/runtime` inside the worker is the stand-in module: its `z` is the real zod, and its process
 * functions throw, since a migration is a function of the state and has no node to talk to.
 */
import { inspect } from "node:util";
import v8 from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
import fc from "fast-check";
import type { AppFile } from "../release/app-file.ts";
import type { ModuleTable } from "../runtime/module-table.ts";
import { checkDown, checkUpAndBack, LimitedCaller, MigrationFailureError, type MigrationSubject } from "./check-migration.ts";
import { exportsOf, loadTable } from "./release-modules.ts";
import { formatDifference, type ModuleVerification, type ReportedFailure, type VerifySubject } from "./report.ts";
import { arbitraryOf, isZodSchema, REJECTED, UnsupportedSchemaError, type ZodLike } from "./zod-arbitrary.ts";

export interface LiveState {
  module: string;
  pid: string;
  name: string | null;
  /** the process's state, as v8.serialize wrote it in the node */
  state: Uint8Array;
}

export interface WorkerJob {
  from: { dir: string; apps: AppFile[]; version: string };
  to: { dir: string; apps: AppFile[]; version: string };
  subjects: VerifySubject[];
  runs: number;
  seed: number;
  timeLimitMs: number;
  live?: LiveState[];
  /** shared with the starting thread: [1 while a codeChange call runs, its start in ms since `epoch`] */
  watch: { buffer: SharedArrayBuffer; epoch: number };
  /** run calls under a vm timeout (slower; used after a call overran the watch) */
  guarded: boolean;
}

export type WorkerMessage =
  | { type: "alive" }
  | { type: "checking"; property: ReportedFailure["property"]; state: string }
  | { type: "module"; result: ModuleVerification }
  | { type: "done" };

/** The worker says it is alive at least this often while it checks states. */
const HEARTBEAT_MS = 1000;
let lastPost = 0;

/**
 * Before each state: a heartbeat now and then; in guarded mode, the state itself, so that the thread
 * that started the worker can name the state of a call it had to stop.
 */
function checking(job: WorkerJob, property: ReportedFailure["property"], state: unknown): void {
  if (job.guarded) {
    post({ type: "checking", property, state: show(state) });
  } else if (performance.now() - lastPost > HEARTBEAT_MS) {
    post({ type: "alive" });
  }
}

const show = (value: unknown) => inspect(value, { depth: 8, breakLength: 100, maxArrayLength: 30, maxStringLength: 200, compact: 3 });

function post(message: WorkerMessage): void {
  lastPost = performance.now();
  parentPort!.postMessage(message);
}

async function verifyModule(job: WorkerJob, subject: VerifySubject, tables: { from: ModuleTable; to: ModuleTable }, caller: LimitedCaller): Promise<ModuleVerification> {
  const started = performance.now();
  const result: ModuleVerification = { ...subject, status: "verified", runs: { upAndBack: 0, down: 0, live: 0 }, lossy: false, failures: [], ms: 0 };
  const finish = () => ({ ...result, ms: Math.round(performance.now() - started) });
  const fail = (status: "error" | "unverified", reason: string) => Object.assign(result, { status, reason });

  const loaded: Record<string, unknown>[] = [];
  for (const [table, release] of [[tables.from, job.from], [tables.to, job.to]] as const) {
    try {
      loaded.push(exportsOf(table, release, subject.module));
    } catch (error) {
      fail("error", `${release.version}: could not load ${subject.module} to verify it: ${(error as Error).message}`);
      return finish();
    }
  }
  const [oldNs, newNs] = loaded as [Record<string, unknown>, Record<string, unknown>];
  const codeChange = newNs.codeChange;
  if (typeof codeChange !== "function") {
    fail("error", `${job.to.version} does not export a codeChange function. Fix: export codeChange(oldVsn, state, extra) from ${subject.module}.`);
    return finish();
  }
  result.lossy = newNs.lossyMigration === true;
  const schemas: { old?: ZodLike; new?: ZodLike } = {};
  for (const [side, ns, version] of [["old", oldNs, job.from.version], ["new", newNs, job.to.version]] as const) {
    const schema = ns.stateSchema;
    if (schema === undefined) continue;
    if (!isZodSchema(schema)) {
      fail("error", `${version}: stateSchema is not a zod 4 schema. Fix: \`export const stateSchema = z.object({...})\` with the \`z\` of relup/runtime or of zod 4.`);
      return finish();
    }
    schemas[side] = schema;
  }
  const migration: MigrationSubject = {
    module: subject.module,
    oldVsn: subject.oldVsn,
    extra: subject.extra,
    codeChange: codeChange as MigrationSubject["codeChange"],
    lossy: result.lossy,
    timeLimitMs: job.timeLimitMs,
    ...(schemas.old ? { oldSchema: schemas.old } : {}),
    ...(schemas.new ? { newSchema: schemas.new } : {}),
  };

  if (job.live) {
    for (const live of job.live.filter((l) => l.module === subject.module)) {
      const state = v8.deserialize(live.state);
      result.runs.live++;
      checking(job, "live", state);
      try {
        await checkUpAndBack(migration, state, caller);
      } catch (error) {
        result.failures.push({ ...reported("live", error, state), pid: live.pid, name: live.name });
      }
    }
    if (result.failures.length > 0) result.status = "failed";
    else if (result.runs.live === 0) fail("unverified", "no live state to check: no process of it runs in the node, or none could be copied");
    else if (!schemas.old || !schemas.new) fail("unverified", `${missingSchemas(schemas, job)}: the live states were migrated without error, but their results were not checked against a schema`);
    return finish();
  }

  if (!schemas.old || !schemas.new) {
    fail("unverified", `${missingSchemas(schemas, job)}. Fix: export \`stateSchema\` (a zod schema of the state) from both versions of ${subject.module}.`);
    return finish();
  }
  // States of the old version go up and back; states of the new version go down.
  const properties = [
    { name: "up-and-back" as const, schema: schemas.old, version: job.from.version, side: "old", check: checkUpAndBack, count: "upAndBack" as const },
    { name: "down" as const, schema: schemas.new, version: job.to.version, side: "new", check: checkDown, count: "down" as const },
  ];
  for (const property of properties) {
    let arbitrary: fc.Arbitrary<unknown>;
    try {
      arbitrary = arbitraryOf(property.schema);
    } catch (error) {
      const message = error instanceof UnsupportedSchemaError ? error.message : `stateSchema: cannot generate states from it (${(error as Error).message})`;
      fail("error", `${property.version}: ${message}`);
      return finish();
    }
    let details: Awaited<ReturnType<typeof fc.check<[unknown]>>>;
    try {
      details = await fc.check(
        fc.asyncProperty(arbitrary, async (state) => {
          fc.pre(state !== REJECTED);
          checking(job, property.name, state);
          await property.check(migration, state, caller);
        }),
        { numRuns: job.runs, seed: job.seed },
      );
    } catch (error) {
      fail("error", `${property.version}: could not generate states from stateSchema: ${(error as Error).message}`);
      return finish();
    }
    result.runs[property.count] = details.numRuns;
    if (!details.failed) continue;
    if (details.counterexample === null) {
      fail("error", `could not generate states from the ${property.side} stateSchema (its refinements reject almost every value). Fix: describe the state with structural schemas rather than refine().`);
      return finish();
    }
    const [counterexample] = details.counterexample;
    const failure = reported(property.name, details.errorInstance, counterexample);
    result.failures.push({ ...failure, seed: details.seed, path: details.counterexamplePath, shrinks: details.numShrinks });
    result.status = "failed";
  }
  return finish();
}

function missingSchemas(schemas: { old?: ZodLike; new?: ZodLike }, job: WorkerJob): string {
  const missing = [...(schemas.old ? [] : [job.from.version]), ...(schemas.new ? [] : [job.to.version])];
  return `no stateSchema in ${missing.join(" nor in ")}`;
}

function reported(property: ReportedFailure["property"], error: unknown, counterexample: unknown): ReportedFailure {
  if (error instanceof MigrationFailureError) {
    const f = error.failure;
    return {
      property,
      check: f.check,
      direction: f.direction,
      message: f.message,
      counterexample: show(counterexample),
      ...("result" in f ? { result: show(f.result) } : {}),
      ...(f.issues ? { issues: f.issues } : {}),
      ...(f.difference ? { difference: formatDifference(f.difference, show) } : {}),
    };
  }
  return { property, check: "throws", direction: "up", message: `the check itself failed: ${(error as Error)?.message ?? String(error)}`, counterexample: show(counterexample) };
}

async function main(): Promise<void> {
  const job = workerData as WorkerJob;
  const tables = { from: loadTable(job.from), to: loadTable(job.to) };
  const caller = new LimitedCaller({ cells: new Int32Array(job.watch.buffer), epoch: job.watch.epoch }, job.guarded);
  for (const subject of job.subjects) {
    post({ type: "module", result: await verifyModule(job, subject, tables, caller) });
  }
  post({ type: "done" });
}

await main();
