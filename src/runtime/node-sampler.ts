/**
 * The node's recent history, one sample a second, for the charts of `relup observe`: event-loop delay
 * (the longest and the 99th percentile within the second, Node's monitorEventLoopDelay at 10 ms
 * resolution, its own histogram: `metrics` and its resets are left alone), event-loop utilization, heap,
 * RSS, the number of processes, and the rates of messages handled by processes and of HTTP requests
 * answered by the release's servers.
 *
 * It costs nothing until it is read: the first `samples` request starts it, and it stops (its history
 * dropped) once nobody has read it for IDLE_STOP_MS. It keeps HISTORY samples (ten minutes).
 */
import http from "node:http";
import { monitorEventLoopDelay, performance, type IntervalHistogram } from "node:perf_hooks";
import { listeningServers } from "./listen-registry.ts";
import type { Runtime } from "./runtime.ts";

export const SAMPLE_MS = 1_000;
export const HISTORY = 600;
export const IDLE_STOP_MS = 5 * 60_000;

export interface Sample {
  /** epoch ms at the end of the second it covers */
  t: number;
  loopMaxMs: number;
  loopP99Ms: number;
  /** the share of the second the event loop was busy (0..1) */
  loopUtilization: number;
  heapUsed: number;
  heapTotal: number;
  rss: number;
  processes: number;
  messagesPerSec: number;
  httpPerSec: number;
}

export class NodeSampler {
  #history: Sample[] = [];
  #timer: NodeJS.Timeout | undefined;
  #histogram: IntervalHistogram | undefined;
  #lastRead = 0;
  #last = { at: 0, messages: 0, http: 0, elu: performance.eventLoopUtilization() };
  #http = 0;
  #counted = new WeakSet<object>();

  constructor(private readonly runtime: Runtime) {}

  /** The samples taken after `after` (epoch ms), oldest first; starts sampling on the first read. */
  read(after = 0): { intervalMs: number; samples: Sample[] } {
    this.#lastRead = Date.now();
    if (!this.#timer) this.#start();
    return { intervalMs: SAMPLE_MS, samples: this.#history.filter((s) => s.t > after) };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#histogram?.disable();
    this.#histogram = undefined;
    this.#history = [];
  }

  #start(): void {
    this.#histogram = monitorEventLoopDelay({ resolution: 10 });
    this.#histogram.enable();
    this.#countHttp();
    this.#last = { at: performance.now(), messages: this.runtime.messagesHandled, http: this.#http, elu: performance.eventLoopUtilization() };
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
    this.#timer.unref();
  }

  #sample(): void {
    if (Date.now() - this.#lastRead > IDLE_STOP_MS) return this.stop();
    this.#countHttp();
    const at = performance.now();
    const seconds = (at - this.#last.at) / 1000;
    const elu = performance.eventLoopUtilization();
    const memory = process.memoryUsage();
    const h = this.#histogram!;
    const messages = this.runtime.messagesHandled;
    this.#history.push({
      t: Date.now(),
      loopMaxMs: round(h.count > 0 ? h.max / 1e6 : 0),
      loopP99Ms: round(h.count > 0 ? h.percentile(99) / 1e6 : 0),
      loopUtilization: round(performance.eventLoopUtilization(elu, this.#last.elu).utilization),
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      rss: memory.rss,
      processes: this.runtime.processCount(),
      messagesPerSec: round((messages - this.#last.messages) / seconds),
      httpPerSec: round((this.#http - this.#last.http) / seconds),
    });
    if (this.#history.length > HISTORY) this.#history.shift();
    h.reset();
    this.#last = { at, messages, http: this.#http, elu };
  }

  /** Count the requests of every HTTP server the release listens with (servers started since included). */
  #countHttp(): void {
    for (const server of listeningServers().values()) {
      if (!(server instanceof http.Server) || this.#counted.has(server)) continue;
      this.#counted.add(server);
      server.on("request", () => void this.#http++);
    }
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;
