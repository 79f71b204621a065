/**
 * A user callback awaited by the node (an application's start, stop or configChange, an `apply M:F` of
 * an install) settles within a timeout or fails with CallbackTimeout; what it settles with later is
 * ignored, or handed to `late` (e.g. to stop a top supervisor started after its start timed out). Only an
 * asynchronous wait can be cut short: a callback that never returns blocks the event loop, and the
 * launcher's watchdog restarts the node.
 */
import { systemClock, type Clock } from "./clock.ts";
import type { Timeout } from "./runtime.ts";

export class CallbackTimeout extends Error {
  override readonly name = "CallbackTimeout";
  constructor(
    /** what did not happen in time, e.g. "configChange of web did not settle" */
    readonly what: string,
    readonly ms: number,
    fix: string,
  ) {
    super(`${what} within ${ms} ms. Fix: ${fix}`);
  }
}

/** `clock`: the runtime's, so that a test's manual clock decides when a migration times out. */
export function settleWithin<T>(
  value: T | Promise<T>,
  timeout: Timeout,
  timedOut: (ms: number) => Error,
  late?: (outcome: { ok: true; value: T } | { ok: false; error: unknown }) => void,
  clock: Clock = systemClock,
): Promise<T> {
  if (!isThenable(value) || timeout === "infinity") return Promise.resolve(value);
  return new Promise((resolve, reject) => {
    let abandoned = false;
    const timer = clock.setTimeout(() => {
      abandoned = true;
      reject(timedOut(timeout));
    }, timeout);
    Promise.resolve(value).then(
      (result) => {
        if (abandoned) return late?.({ ok: true, value: result });
        clock.clearTimeout(timer);
        resolve(result);
      },
      (error: unknown) => {
        if (abandoned) return late?.({ ok: false, error });
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
