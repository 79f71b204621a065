/**
 * Two kinds of failure, kept apart (cf. changesets' ValidationError vs InternalError):
 *
 * - UserError: expected, caused by input (a malformed manifest, a tampered tarball, a failed check).
 *   It carries an exit code and a message that says what was found, what was expected and what to do.
 * - BugError: an internal invariant broke. The message says so, so that it is reported, not worked around.
 *
 * Only the CLI entry point turns these into exit codes (src/cli/run-cli.ts).
 */

/** Exit codes, as ARCHITECTURE §7: 1 a check or an upgrade failed, 2 bad usage or bad input. */
export const ExitCode = { ok: 0, checkFailed: 1, badInput: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class UserError extends Error {
  override readonly name: string = "UserError";
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.badInput,
  ) {
    super(message);
  }
}

export class BugError extends Error {
  override readonly name = "BugError";
  constructor(message: string) {
    super(`internal error (this is a bug in relup, please report it): ${message}`);
  }
}

export function assertNever(value: never): never {
  throw new BugError(`unexpected value ${JSON.stringify(value)}`);
}
