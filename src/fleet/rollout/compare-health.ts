/**
 * The soak's health rule, as a pure function of a node's baseline (its health before its wave) and the
 * health reads its agent published since the node was upgraded. A regression is, for any read:
 *
 * - the node's pid changed, or its uptime went back (it restarted);
 * - crashes, supervisor restarts or failed calls rose by more than the baseline's own rate allows over
 *   the soak: allowed = ceil(2 × counter / uptime × soak) at the baseline, 0 when the counter was 0;
 * - the event loop's p99 above max(2 × baseline p99, baseline p99 + 50 ms) in two consecutive reads (the
 *   50 ms: `--loop-slack`, for machines whose loops stall for other reasons);
 * - the health path (HTTP) answered with a failure since the baseline: counted from the reads of this
 *   rollout's checks only (`http.rollout`, when the rollout's id is given), so that failures counted
 *   for an earlier rollout never count against this one.
 *
 * It returns the first regression found, worded for the rollout's reason, or undefined.
 */
import type { NodeHealth } from "../node-health.ts";

export const LOOP_SLACK_MS = 50;

export function compareHealth(node: string, baseline: NodeHealth, reads: readonly NodeHealth[], soakMs: number, options: { rolloutId?: string | undefined; loopSlackMs?: number | undefined } = {}): string | undefined {
  const { rolloutId, loopSlackMs = LOOP_SLACK_MS } = options;
  let slowBefore = false;
  for (const read of reads) {
    if (read.nodePid !== baseline.nodePid) return `${node} restarted (pid ${baseline.nodePid} → ${read.nodePid})`;
    if (read.uptimeMs < baseline.uptimeMs) return `${node} restarted (uptime ${Math.round(read.uptimeMs)} ms, was ${Math.round(baseline.uptimeMs)} ms)`;
    for (const counter of ["crashes", "restarts", "failedCalls"] as const) {
      const rose = read[counter] - baseline[counter];
      const allowed = allowedIncrease(baseline[counter], baseline.uptimeMs, soakMs);
      if (rose > allowed) return `${node}: ${WORDS[counter]} rose by ${rose} (${baseline[counter]} → ${read[counter]}), ${allowed} allowed over the soak`;
    }
    const limit = Math.max(2 * baseline.loopP99Ms, baseline.loopP99Ms + loopSlackMs);
    const slow = read.loopP99Ms > limit;
    if (slow && slowBefore) return `${node}: event-loop delay p99 ${round(read.loopP99Ms)} ms in two reads in a row, above ${round(limit)} ms (baseline ${round(baseline.loopP99Ms)} ms)`;
    slowBefore = slow;
    if (read.http && (rolloutId === undefined || read.http.rollout === rolloutId)) {
      const same = baseline.http?.path === read.http.path && baseline.http.rollout === read.http.rollout;
      const failedBefore = same ? baseline.http!.failed : 0;
      if (read.http.failed > failedBefore) return `${node}: ${read.http.path} failed ${read.http.failed - failedBefore} time${read.http.failed - failedBefore === 1 ? "" : "s"} (last failure: ${read.http.lastFailure ?? read.http.last})`;
    }
  }
  return undefined;
}

/** ceil(2 × rate × soak), the rate being counter / uptime at the baseline; 0 when the counter was 0. */
export function allowedIncrease(counter: number, uptimeMs: number, soakMs: number): number {
  if (counter === 0 || uptimeMs <= 0) return 0;
  return Math.ceil((2 * counter * soakMs) / uptimeMs);
}

const WORDS = { crashes: "process crashes", restarts: "supervisor restarts", failedCalls: "failed calls" } as const;
const round = (ms: number) => Math.round(ms * 10) / 10;
