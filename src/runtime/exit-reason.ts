/**
 * What a process's exit reason says: printed for logs and errors, and whether the process ended with an
 * error (counted as a crash by the `health` control request, health-monitor.ts).
 */

export function describe(reason: unknown): string {
  return typeof reason === "string" ? reason : JSON.stringify(reason);
}

/**
 * Whether a process that exits with `reason` ended with an error: any reason but `normal`, `shutdown`,
 * `{shutdown: ...}` (OTP's normal exits) and `killed`. A kill is what relup itself does on purpose (a
 * purge, a supervisor's brutal_kill or shutdown timeout), so it is not a crash; a crash's error, an exit
 * that spreads from a crash over links, a supervisor that gave up (`reached_max_restart_intensity`) are.
 */
export function endedWithError(reason: unknown): boolean {
  if (reason === "normal" || reason === "shutdown" || reason === "killed") return false;
  return !(typeof reason === "object" && reason !== null && "shutdown" in reason);
}
