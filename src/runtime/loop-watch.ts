/**
 * What blocks the node's event loop, for the `metrics` control request: the garbage collector's pauses
 * (V8's own `gc` performance entries, exact and in-process) since the last reset, always counted; and,
 * while a window is open (`metrics {reset: true, blocks: true}` opens one, the next reset closes it), the
 * longest block itself, found by a 1 ms timer whose late ticks are the blocks, with the part of it the
 * collector's pauses took, the CPU time the node used meanwhile and how often the operating system took
 * the CPU away from it (on a loaded machine, a block can be longer than the work in it). The window's timer and its list of pauses cost a little while it is open, so
 * it is opened only by whoever measures (the bench, an operator looking at an upgrade).
 */
import { PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";

export interface GcPauses {
  /** pauses of the collector since the last reset: how many, their sum and the longest (ms) */
  count: number;
  totalMs: number;
  maxMs: number;
}

export interface LongestBlock {
  /** the longest time the event loop ran without reaching its timers during the window (ms) */
  ms: number;
  /** how much of it the collector's pauses took (ms) */
  gcMs: number;
  /** the collector's pauses in it */
  gcPauses: number;
  /** the CPU time the node's process used meanwhile, all its threads (the collector's helpers too) (ms) */
  cpuMs: number;
  /** how many times the operating system took the CPU from the node meanwhile (involuntary context switches) */
  preempted: number;
}

/** Pauses kept while a window is open, at most: a longer window measures its blocks' GC share from the latest. */
const MAX_KEPT = 100_000;

export class LoopWatch {
  #pauses: GcPauses = { count: 0, totalMs: 0, maxMs: 0 };
  /** [start, end] of each pause while a window is open (performance.now() time) */
  #kept: number[] = [];
  #window: { timer: NodeJS.Timeout; last: number; usage: NodeJS.ResourceUsage; longest: { start: number; end: number; cpuMs: number; preempted: number } } | undefined;
  #observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) this.#pause(entry);
  });

  constructor() {
    this.#observer.observe({ entryTypes: ["gc"] });
  }

  /** The collector's pauses since the last reset, and the longest block of the window if one is open. */
  read(): { gcPauses: GcPauses; longestBlock?: LongestBlock } {
    // Entries are delivered after the pause, in a later turn: those already recorded by V8 are taken now.
    for (const entry of this.#observer.takeRecords()) this.#pause(entry);
    const window = this.#window;
    if (!window) return { gcPauses: { ...this.#pauses } };
    const { start, end, cpuMs, preempted } = window.longest;
    let gcMs = 0;
    let gcPauses = 0;
    for (let i = 0; i < this.#kept.length; i += 2) {
      const overlap = Math.min(end, this.#kept[i + 1]!) - Math.max(start, this.#kept[i]!);
      if (overlap > 0) {
        gcMs += overlap;
        gcPauses++;
      }
    }
    return { gcPauses: { ...this.#pauses }, longestBlock: { ms: end - start, gcMs, gcPauses, cpuMs, preempted } };
  }

  /** Start counting again; with `blocks`, open a window that finds the longest block (closing any other). */
  reset(blocks: boolean): void {
    this.#observer.takeRecords();
    this.#pauses = { count: 0, totalMs: 0, maxMs: 0 };
    this.#kept = [];
    if (this.#window) clearInterval(this.#window.timer);
    this.#window = undefined;
    if (!blocks) return;
    const now = performance.now();
    const window = { last: now, usage: process.resourceUsage(), longest: { start: now, end: now, cpuMs: 0, preempted: 0 }, timer: setInterval(() => {
      const tick = performance.now();
      const usage = process.resourceUsage();
      if (tick - window.last > window.longest.end - window.longest.start) {
        const cpuMs = (usage.userCPUTime + usage.systemCPUTime - window.usage.userCPUTime - window.usage.systemCPUTime) / 1000;
        window.longest = { start: window.last, end: tick, cpuMs, preempted: usage.involuntaryContextSwitches - window.usage.involuntaryContextSwitches };
      }
      window.last = tick;
      window.usage = usage;
    }, 1).unref() };
    this.#window = window;
  }

  #pause(entry: PerformanceEntry): void {
    this.#pauses.count++;
    this.#pauses.totalMs += entry.duration;
    this.#pauses.maxMs = Math.max(this.#pauses.maxMs, entry.duration);
    if (this.#window && this.#kept.length < MAX_KEPT * 2) this.#kept.push(entry.startTime, entry.startTime + entry.duration);
  }
}
