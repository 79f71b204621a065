/** A step's failure with where it happened (module, process), which the executor puts in its InstallError. */
import type { Pid } from "../process.ts";

export class StepError extends Error {
  constructor(
    override readonly cause: Error,
    readonly where: { module?: string; pid?: Pid },
  ) {
    super(cause.message);
  }
}
