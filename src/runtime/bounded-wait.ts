/**
 * Waits that a rollback (or a stop) must not let hang: each one ends at a bound, measured on the
 * runtime's clock, and what did not finish by then is reported to the caller, which logs it and goes on
 * (or kills what it waited for). "No step waits forever" (ARCHITECTURE §6): a timeout the user wrote as
 * "infinity" is the user's choice on the way up, never on the way back.
 */
import type { Clock } from "./clock.ts";
import type { Proc } from "./process.ts";
import { DEFAULT_SUSPEND_TIMEOUT, type Runtime, type Timeout } from "./runtime.ts";

/** The longest a rollback waits for one thing (a handler to finish, a process to stop): 5 s. */
export const ROLLBACK_WAIT_MS = DEFAULT_SUSPEND_TIMEOUT;

/** `timeout`, capped at `bound` ("infinity" becomes `bound`). */
export function capped(timeout: Timeout | undefined, bound: number): number {
  return timeout === undefined || timeout === "infinity" ? bound : Math.min(timeout, bound);
}

/** Resolves true once `promise` settles (either way), or false after `ms` on `clock`. */
export function settlesWithin(clock: Clock, promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), ms);
    const done = () => {
      clock.clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}

/**
 * End `proc` with `reason`, waiting at most `ms` for its terminate (and its links'); then kill it (exit
 * reason `killed`). Resolves "exited", or "killed" when the bound was hit.
 */
export async function exitWithin(runtime: Runtime, proc: Proc, reason: unknown, ms: number): Promise<"exited" | "killed"> {
  if (await settlesWithin(runtime.clock, runtime.exit(proc, reason), ms)) return "exited";
  // A supervisor stuck stopping a child (whose shutdown is infinity) dies with that child: a link that
  // is already exiting would not hear the kill.
  const linked = proc.links();
  await runtime.exit(proc, "kill");
  for (const pid of linked) {
    const other = runtime.get(pid);
    if (other?.status === "exiting") await runtime.exit(other, "kill");
  }
  return "killed";
}
