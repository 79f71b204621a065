/** A step's failure with where it happened (module, process), which the executor turns into an InstallError. */
import type { Pid } from "../process.ts";

export class StepError extends Error {
  constructor(
    override readonly cause: Error,
    readonly where: { module?: string; pid?: Pid },
  ) {
    super(cause.message);
  }
}

export function wrap<T>(where: { module?: string }, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new StepError(error as Error, where);
  }
}

export async function wrapAsync<T>(where: { module?: string }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw new StepError(error as Error, where);
  }
}
