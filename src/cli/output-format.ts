/**
 * How a command prints, after terraform: text for people by default, on a terminal or not (a CI log is
 * read by people too); JSON only when asked, with `--format json` or `--json`.
 */
import { ExitCode, UserError } from "../errors.ts";

export function outputFormat<F extends string>(argv: { format?: F | undefined; json?: boolean }, formats: readonly F[]): F {
  if (argv.json && argv.format !== undefined && argv.format !== "json") throw new UserError(`--json asks for JSON, --format for ${argv.format}. Fix: give one of them.`, ExitCode.badInput);
  if (argv.json) return "json" as F;
  return argv.format ?? formats[0]!;
}
