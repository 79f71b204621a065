/** Durations on the command line: `5m`, `30s`, `1500ms`, `1h` (a whole number and a unit), as milliseconds. */
import { ExitCode, UserError } from "../../errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of `text`; a UserError (exit 2) naming the flag and the fix for anything else. */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(String(text).trim());
  const ms = match ? Number(match[1]) * UNITS[match[2]!]! : NaN;
  if (!Number.isSafeInteger(ms)) throw new UserError(`${flag} ${JSON.stringify(String(text))} is not a duration. Fix: a whole number and a unit: \`${flag} 5m\`, \`30s\`, \`1500ms\` or \`1h\`.`, ExitCode.badInput);
  return ms;
}
