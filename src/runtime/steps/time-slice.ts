/**
 * How the executor's loops over processes (suspend, code_change, resume) share the event loop: they run
 * for a time budget, not a count of processes, and then yield (setImmediate), so that requests, timers and
 * the launcher's heartbeat are served between two slices however long each process takes (a codeChange of
 * a microsecond or of a millisecond, a fleet of a thousand or a million). The clock is read every
 * CHECK_EVERY processes, not for each: a read costs about as much as suspending a process.
 *
 * One slice runs through a whole install, so that the steps run in one turn of the event loop (a load
 * after a suspend) count together; a step that waited (a busy process) only makes the next yield early.
 */
import type { ExecOptions } from "../executor.ts";

/** The time (ms) a loop over processes runs before it yields to the event loop. */
export const SLICE_MS = 5;
/** Processes handled between two reads of the clock. */
export const CHECK_EVERY = 64;

export class TimeSlice {
  readonly #budgetMs: number;
  readonly #now: () => number;
  #started: number;
  #count = 0;

  constructor(options: Pick<ExecOptions, "sliceMs" | "now"> = {}) {
    this.#budgetMs = options.sliceMs ?? SLICE_MS;
    this.#now = options.now ?? (() => performance.now());
    this.#started = this.#now();
  }

  /** Count one process; true when the slice has used its budget (then `await yieldNow()`). */
  due(): boolean {
    if (++this.#count < CHECK_EVERY) return false;
    this.#count = 0;
    return this.#now() - this.#started >= this.#budgetMs;
  }

  /**
   * Let the event loop run what waits (timers, I/O, immediates), then start a new slice. Two immediates:
   * one queued from an I/O callback (a control request starting the install, a busy process's wait ending)
   * runs in the same turn's check phase, before any timer or I/O, so the next slice would follow this one
   * at once; the second runs only after a whole turn of the loop.
   */
  async yieldNow(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    this.#count = 0;
    this.#started = this.#now();
  }
}
