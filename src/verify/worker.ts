/**
 * The verify worker: a worker thread that loads the two versions of each module to verify into module
 * tables of its own and runs the checks of check-migration.ts against them, so that user code never
 * runs in the CLI's thread. An advanced update's codeChange is property-tested both ways; a soft
 * update's states must fit the other version's schema as they are. With `--live`, the node's states are
 * checked one by one, and their values seed the generated states (live-seeds.ts). It posts one result per module, and a heartbeat while it works so that
 * the CLI can tell a busy worker from a stuck one.
 *
 * `relup/runtime` inside the worker is the stand-in module: its `z` is the real zod, and its process
 * functions throw, since a migration is a function of the state and has no node to talk to.
 */
import v8 from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
import type { AppFile } from "../release/app-file.ts";
import type { Json } from "../release/names.ts";
import type { ModuleTable } from "../runtime/module-table.ts";
import { checkDown, checkKept, checkUpAndBack, LimitedCaller, type MigrationSubject } from "./check-migration.ts";
import { collectSeeds } from "./live-seeds.ts";
import { envOf, exportsOf, loadTable } from "./release-modules.ts";
import type { ModuleVerification, ReportedFailure, VerifySubject } from "./report.ts";
import { reported, show } from "./report-failure.ts";
import { runProperty, type Property } from "./run-property.ts";
import { isZodSchema, type ZodLike } from "./zod-arbitrary.ts";

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
  /** the operator's env overrides of the root checked with --live (its config.json) */
  config?: Record<string, Record<string, Json>>;
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

function post(message: WorkerMessage): void {
  lastPost = performance.now();
  parentPort!.postMessage(message);
}

async function verifyModule(job: WorkerJob, subject: VerifySubject, tables: { from: ModuleTable; to: ModuleTable }, caller: LimitedCaller): Promise<ModuleVerification> {
  const started = performance.now();
  const result: ModuleVerification = { ...subject, status: "verified", runs: { upAndBack: 0, up: 0, down: 0, live: 0 }, lossy: false, failures: [], ms: 0 };
  const finish = () => ({ ...result, status: result.status === "verified" && result.failures.length > 0 ? "failed" : result.status, ms: Math.round(performance.now() - started) });
  const fail = (status: "error" | "unverified", reason: string) => Object.assign(result, { status, reason });
  const soft = subject.change === "soft";

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
  if (!soft && typeof codeChange !== "function") {
    fail("error", `${job.to.version} does not export a codeChange function. Fix: export codeChange(oldVsn, state, extra) from ${subject.module}.`);
    return finish();
  }
  result.lossy = !soft && newNs.lossyMigration === true;
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
    env: { up: envOf(job.to, job.config), down: envOf(job.from, job.config) },
    ...(schemas.old ? { oldSchema: schemas.old } : {}),
    ...(schemas.new ? { newSchema: schemas.new } : {}),
  };

  // Live: each copied state is migrated (advanced) or checked as it is (soft); every failing one is reported.
  const live = job.live?.filter((l) => l.module === subject.module).map((l) => ({ ...l, value: v8.deserialize(l.state) as unknown }));
  for (const state of live ?? []) {
    result.runs.live++;
    checking(job, "live", state.value);
    try {
      if (!soft) await checkUpAndBack(migration, state.value, caller);
      else if (schemas.new) checkKept(schemas.new, state.value, "up");
    } catch (error) {
      result.failures.push({ ...reported("live", error, state.value), pid: state.pid, name: state.name });
    }
  }

  if (!schemas.old || !schemas.new) {
    if (result.failures.length > 0) return finish();
    const what = !soft
      ? "the live states were migrated without error, but their results were not checked against a schema"
      : schemas.new
        ? "the live states fit the new stateSchema, but no generated state was checked"
        : "their shape was not checked against a schema";
    fail("unverified", result.runs.live > 0 ? `${missingSchemas(schemas, job)}: ${what}` : `${missingSchemas(schemas, job)}. Fix: export \`stateSchema\` (a zod schema of the state) from both versions of ${subject.module}.`);
    return finish();
  }
  // Live values seed the generated states: a failure that needs one particular key is found and shrunk.
  const values = live?.map((l) => l.value);
  const oldSeeds = values ? collectSeeds(schemas.old, values) : undefined;
  const newSeeds = values ? collectSeeds(schemas.new, values) : undefined;
  const seeds = { old: oldSeeds, new: newSeeds && oldSeeds ? { at: newSeeds.at, pool: [...oldSeeds.pool, ...newSeeds.pool] } : undefined };
  const [oldSchema, newSchema] = [schemas.old, schemas.new];
  // States of the old version go up (and back, when migrated); states of the new version go down.
  const properties: (Property & { count: keyof ModuleVerification["runs"] })[] = [
    soft
      ? { name: "up", schema: oldSchema, side: "old", version: job.from.version, check: (s) => checkKept(newSchema, s, "up"), count: "up" }
      : { name: "up-and-back", schema: oldSchema, side: "old", version: job.from.version, check: (s) => checkUpAndBack(migration, s, caller), count: "upAndBack" },
    soft
      ? { name: "down", schema: newSchema, side: "new", version: job.to.version, check: (s) => checkKept(oldSchema, s, "down"), count: "down" }
      : { name: "down", schema: newSchema, side: "new", version: job.to.version, check: (s) => checkDown(migration, s, caller), count: "down" },
  ];
  for (const property of properties) {
    const propertySeeds = seeds[property.side];
    const outcome = await runProperty({ ...property, ...(propertySeeds ? { seeds: propertySeeds } : {}) }, job, (state) => checking(job, property.name, state));
    if ("error" in outcome) {
      fail("error", outcome.error);
      return finish();
    }
    result.runs[property.count] = outcome.runs;
    if (outcome.failure) result.failures.push(outcome.failure);
  }
  return finish();
}

function missingSchemas(schemas: { old?: ZodLike; new?: ZodLike }, job: WorkerJob): string {
  const missing = [...(schemas.old ? [] : [job.from.version]), ...(schemas.new ? [] : [job.to.version])];
  return `no stateSchema in ${missing.join(" nor in ")}`;
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
