/**
 * Timeout flags (`--code-change-timeout`, `--heartbeat-timeout`, `--time-limit`): whole milliseconds
 * above 0 and at most the longest timer Node.js keeps (a larger one would fire after 1 ms), or, where
 * the flag allows no limit, "infinity". Anything else is bad usage (exit 2).
 */
import { MAX_TIMEOUT_MS } from "../appup/instruction.ts";
import { ExitCode, UserError } from "../errors.ts";
import type { Timeout } from "../runtime/runtime.ts";

export function parseTimeout(flag: string, value: string | number, options: { infinity: true }): Timeout;
export function parseTimeout(flag: string, value: string | number, options?: { infinity?: false }): number;
export function parseTimeout(flag: string, value: string | number, options: { infinity?: boolean } = {}): Timeout {
  const text = String(value);
  if (options.infinity && text === "infinity") return text;
  const orInfinity = options.infinity ? `, or "infinity" for no limit` : "";
  if (!/^[1-9]\d*$/.test(text)) throw new UserError(`${flag} ${typeof value === "string" ? JSON.stringify(value) : String(value)} is not a timeout. Fix: give whole milliseconds above 0 (e.g. 30000)${orInfinity}.`, ExitCode.badInput);
  const ms = Number(text);
  if (ms > MAX_TIMEOUT_MS) throw new UserError(`${flag} ${text} is above the longest timer Node.js keeps (${MAX_TIMEOUT_MS} ms, about 24.8 days). Fix: give at most ${MAX_TIMEOUT_MS}${orInfinity}.`, ExitCode.badInput);
  return ms;
}
