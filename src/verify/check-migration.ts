/**
 * The checks `relup verify` makes of one state: run the new module's `codeChange` up and down the way
 * the executor would, and find the first thing wrong with it. Runs in the verify worker, never in the
 * CLI's own thread, since it calls user code.
 *
 * For a state of the old version (`up`): codeChange(oldVsn) must return, within the time limit,
 * without changing its input, the same result when run twice, and a state the new `stateSchema`
 * accepts; codeChange({down: oldVsn}) on that result the same, with a state the old `stateSchema`
 * accepts; and unless the module exports `lossyMigration = true`, the state it gives back equals the
 * original. For a state of the new version (`down`): the down half alone, as a downgrade meets every
 * state the new code may have made, not only those made by the up migration. For a soft update (no
 * codeChange), a state of either version must fit the other version's schema as it is (`checkKept`).
 */
import vm from "node:vm";
import { useEnv, type EnvByApp } from "./release-modules.ts";
import { firstDifference, type StateDifference } from "./state-diff.ts";
import type { ZodIssueLike, ZodLike } from "./zod-arbitrary.ts";

export type CheckName = "throws" | "timeout" | "mutates-input" | "not-deterministic" | "invalid-result" | "round-trip" | "invalid-kept-state";

export interface MigrationFailure {
  check: CheckName;
  /** the codeChange call that failed: up from the old vsn, or down to it */
  direction: "up" | "down";
  message: string;
  issues?: ZodIssueLike[];
  difference?: StateDifference;
  /** what codeChange returned, when it returned */
  result?: unknown;
}

export interface MigrationSubject {
  module: string;
  /** the vsn of the old version: codeChange gets it on the way up, and `{down: vsn}` on the way down */
  oldVsn: unknown;
  extra: unknown;
  codeChange: (...args: unknown[]) => unknown;
  oldSchema?: ZodLike;
  newSchema?: ZodLike;
  lossy: boolean;
  timeLimitMs: number;
  /** the env codeChange sees, per direction (up: the new release's, down: the old one's) */
  env?: { up: EnvByApp; down: EnvByApp };
}

export class MigrationFailureError extends Error {
  constructor(readonly failure: MigrationFailure) {
    super(`${failure.direction}: ${failure.message}`);
  }
}

/**
 * Calls user code with a time limit. A promise that does not settle in time is a timeout in either
 * mode; a synchronous endless loop is stopped differently:
 *
 * - watched (the default): the call runs directly, and marks the shared `watch` cells (in a call, and
 *   since when) so that the thread that started the worker sees a call overrun its limit and stops the
 *   worker. It costs nothing per call, but the state that looped is not known.
 * - guarded: the call runs through `vm` with a timeout, which interrupts the loop in this thread and
 *   reports it as a failure that fast-check can shrink. Each call starts a watchdog thread (about 0.1 ms),
 *   so the CLI uses this mode only to run again a module whose worker had to be stopped. A loop after an
 *   await runs outside the vm call; the watch (kept in this mode too) still sees it.
 *
 * A call that returns, but later than its limit, is a timeout in both modes.
 */
export class LimitedCaller {
  readonly #context = vm.createContext({ call: undefined as unknown });
  readonly #script = new vm.Script("call()", { filename: "relup-verify-call" });

  /** `watch`: [1 while a call runs, its start in ms since `epoch`]; `guarded`: run calls under a vm timeout. */
  constructor(
    private readonly watch: { cells: Int32Array; epoch: number },
    private readonly guarded = false,
  ) {}

  async call(fn: () => unknown, timeLimitMs: number): Promise<{ ok: true; value: unknown } | { ok: false; timeout: boolean; error: unknown }> {
    const started = performance.now();
    const tooLate = () => ({ ok: false as const, timeout: true, error: new Error(`took longer than ${timeLimitMs} ms`) });
    // The watch stays on until the call has settled: an endless loop after an await is seen too.
    Atomics.store(this.watch.cells, 1, Date.now() - this.watch.epoch);
    Atomics.store(this.watch.cells, 0, 1);
    try {
      let value: unknown;
      try {
        value = this.guarded ? this.#guarded(fn, timeLimitMs) : fn();
      } catch (error) {
        const timeout = (error as NodeJS.ErrnoException)?.code === "ERR_SCRIPT_EXECUTION_TIMEOUT";
        return { ok: false, timeout, error };
      }
      if (!(value instanceof Promise)) return performance.now() - started > timeLimitMs ? tooLate() : { ok: true, value };
      const left = Math.max(1, timeLimitMs - (performance.now() - started));
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), left)));
      try {
        const settled = await Promise.race([value.then((v) => ({ v }), (error: unknown) => ({ error })), expired]);
        if (settled === "timeout" || performance.now() - started > timeLimitMs) return tooLate();
        return "error" in settled ? { ok: false, timeout: false, error: settled.error } : { ok: true, value: settled.v };
      } finally {
        clearTimeout(timer);
      }
    } finally {
      Atomics.store(this.watch.cells, 0, 0);
    }
  }

  #guarded(fn: () => unknown, timeLimitMs: number): unknown {
    try {
      this.#context.call = fn;
      return this.#script.runInContext(this.#context, { timeout: timeLimitMs });
    } finally {
      this.#context.call = undefined;
    }
  }
}

/** Checks a state of the old version: up, then down, then the round trip. Throws MigrationFailureError. */
export async function checkUpAndBack(subject: MigrationSubject, state: unknown, caller: LimitedCaller): Promise<void> {
  // codeChange gets a copy: `state` stays as generated, to be reported (and shrunk) as it was.
  const up = await migrateOnce(subject, "up", copy(state, "up", "the state given to codeChange"), state, caller);
  if (subject.newSchema) expectValid(subject.newSchema, up, "up", "the new version's stateSchema");
  const upCopy = copy(up, "up", "the state codeChange returned");
  const down = await migrateOnce(subject, "down", up, upCopy, caller);
  if (subject.oldSchema) expectValid(subject.oldSchema, down, "down", "the old version's stateSchema");
  if (subject.lossy) return;
  const difference = firstDifference(state, down);
  if (difference) {
    throw new MigrationFailureError({
      check: "round-trip",
      direction: "down",
      message: "up then down does not give back the original state (export `lossyMigration = true` if the loss is intended)",
      difference,
      result: down,
    });
  }
}

/** Checks a state of the new version: down alone. Throws MigrationFailureError. */
export async function checkDown(subject: MigrationSubject, state: unknown, caller: LimitedCaller): Promise<void> {
  const down = await migrateOnce(subject, "down", copy(state, "down", "the state given to codeChange"), state, caller);
  if (subject.oldSchema) expectValid(subject.oldSchema, down, "down", "the old version's stateSchema");
}

/**
 * One migration, as the executor runs it, plus the checks of the call itself: it returns in time, it
 * leaves its input alone, and a second run on an equal copy gives an equal result.
 */
async function migrateOnce(subject: MigrationSubject, direction: "up" | "down", state: unknown, original: unknown, caller: LimitedCaller): Promise<unknown> {
  const vsn = direction === "up" ? subject.oldVsn : { down: subject.oldVsn };
  const first = await invoke(subject, direction, vsn, state, caller);
  const mutated = firstDifference(original, state);
  if (mutated) {
    throw new MigrationFailureError({ check: "mutates-input", direction, message: "codeChange changed the state it was given (a failed upgrade could not put it back); build a new state instead", difference: mutated });
  }
  const second = await invoke(subject, direction, vsn, copy(original, direction, "the state given to codeChange"), caller);
  const unstable = firstDifference(first, second);
  if (unstable) {
    throw new MigrationFailureError({ check: "not-deterministic", direction, message: "codeChange gave two different results for equal states (does it read the clock or Math.random?)", difference: unstable, result: first });
  }
  return first;
}

async function invoke(subject: MigrationSubject, direction: "up" | "down", vsn: unknown, state: unknown, caller: LimitedCaller): Promise<unknown> {
  useEnv(subject.env?.[direction]);
  const outcome = await caller.call(() => subject.codeChange(vsn, state, subject.extra), subject.timeLimitMs).finally(() => useEnv(undefined));
  if (outcome.ok) return outcome.value;
  if (outcome.timeout) throw new MigrationFailureError({ check: "timeout", direction, message: `codeChange did not return within ${subject.timeLimitMs} ms` });
  const error = outcome.error as Error;
  throw new MigrationFailureError({ check: "throws", direction, message: `codeChange threw ${error?.name ?? "an error"}: ${error?.message ?? String(error)}` });
}

/**
 * A soft update: no codeChange runs, so a state of one version must fit the other version's schema as
 * it is (up: an old state, held by the new code; down: a new state, held by the old code).
 */
export function checkKept(schema: ZodLike, state: unknown, direction: "up" | "down"): void {
  expectValid(schema, state, direction, direction === "up" ? "the new version's stateSchema" : "the old version's stateSchema", true);
}

function expectValid(schema: ZodLike, value: unknown, direction: "up" | "down", what: string, kept = false): void {
  const parsed = schema.safeParse(value);
  const check = kept ? "invalid-kept-state" : "invalid-result";
  const soft = "a soft update keeps the state as it is (no codeChange runs)";
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ code: i.code, path: i.path.map((p) => (typeof p === "symbol" ? p.toString() : p)), message: i.message }));
    throw new MigrationFailureError({ check, direction, message: kept ? `${soft}, and ${what} rejects it` : `codeChange returned a state that ${what} rejects`, issues, ...(kept ? {} : { result: value }) });
  }
  // The node never parses a state: a field that the schema fills in (a default, a catch, a coercion) is
  // missing or wrong in the process. Keys the schema strips are not a difference; a transform, whose
  // output the schema would not accept again, is not either.
  const filled = firstDifference(parsed.data, value, "", { allowExtraKeys: true });
  if (filled && schema.safeParse(parsed.data).success) {
    throw new MigrationFailureError({
      check,
      direction,
      message: `${kept ? `${soft}, and ${what} accepts it` : `codeChange returned a state that ${what} accepts`} only by changing it (a default, catch or coercion filled it in; the process would hold it as it is)`,
      difference: filled,
      ...(kept ? {} : { result: value }),
    });
  }
}

function copy(value: unknown, direction: "up" | "down", what: string): unknown {
  try {
    return structuredClone(value);
  } catch (error) {
    throw new MigrationFailureError({ check: "invalid-result", direction, message: `${what} is not plain data (it cannot be copied: ${(error as Error).message}); states hold data, not functions or handles`, result: value });
  }
}
