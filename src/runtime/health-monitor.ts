/**
 * The `health` control request: what a fleet's node agent publishes in its node record every refresh
 * (src/fleet/node-health.ts), and a rollout's soak compares with the node's baseline. The counters are
 * the runtime's own (Runtime.counters: an increment where it happens, nothing more, so they cost
 * nothing at a million processes): processes that ended with an error (exit-reason.ts), supervisor
 * restarts of a child, `call`s that rejected (a timeout, no such process, the callee crashed or exited).
 *
 * The event-loop delay is measured over the interval since the previous `health` read (each read starts
 * the next one), in a histogram of its own (`metrics` and `samples` keep theirs): a timer every TICK_MS
 * records how late it ran. A timer of our own rather than a second monitorEventLoopDelay, whose ticks
 * were seen to stop after a reset in a node beside the node's other histograms; fifty late-checks a second cost
 * nothing measurable.
 */
import { createHistogram, performance, type RecordableHistogram } from "node:perf_hooks";
import type { Runtime } from "./runtime.ts";

export const TICK_MS = 20;

export interface HealthResult {
  /** the node's OS process id and how long it has run (ms): a restarted node's counters start again */
  nodePid: number;
  uptimeMs: number;
  /** since the node started */
  crashes: number;
  restarts: number;
  failedCalls: number;
  /** the event loop's delay (ms) since the previous `health` read (since the node started for the first) */
  loopP99Ms: number;
  loopMaxMs: number;
}

export class HealthMonitor {
  readonly #histogram: RecordableHistogram = createHistogram();
  #last = performance.now();

  constructor(
    private readonly runtime: Runtime,
    private readonly startedAt: number,
  ) {
    setInterval(() => {
      const now = performance.now();
      // How much later than due this tick ran: the time the loop was busy elsewhere.
      this.#histogram.record(Math.max(1, Math.round((now - this.#last - TICK_MS) * 1e6)));
      this.#last = now;
    }, TICK_MS).unref();
  }

  read(): HealthResult {
    const h = this.#histogram;
    const { crashes, restarts, failedCalls } = this.runtime.counters;
    const result = { nodePid: process.pid, uptimeMs: Date.now() - this.startedAt, crashes, restarts, failedCalls, loopP99Ms: h.count > 0 ? ms(h.percentile(99)) : 0, loopMaxMs: h.count > 0 ? ms(h.max) : 0 };
    h.reset();
    return result;
  }
}

const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
