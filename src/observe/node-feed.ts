/**
 * What the dashboard shows, read from the node over its control socket and handed to the browsers that
 * watch (server-sent events, observe-server.ts). It asks only the read-only requests
 * (READ_ONLY_COMMANDS; `ask` refuses any other), and only while somebody watches:
 *
 *   overview   every second: status (release, applications, modules), the root's RELEASES, processes per
 *              module, the supervision trees; an event only when the answer changed
 *   samples    every second: the samples the node took since the last one (the first read starts them)
 *   journal    followed with a cursor: a request waits on the node until the journal changes, and the
 *              next one goes out JOURNAL_GAP_MS after its answer, so a migration reporting every 5 ms
 *              is shown at most about ten times a second; each record's plan is read once
 *
 * A node that does not answer is reported (`node` event) and asked again a second later.
 */
import path from "node:path";
import { controlRequest } from "../runtime/control-client.ts";
import { READ_ONLY_COMMANDS, type ControlResults, type ReadOnlyRequest } from "../runtime/control-protocol.ts";
import type { InstallRecord } from "../runtime/install-journal.ts";
import type { Sample } from "../runtime/node-sampler.ts";
import { readReleasesFile } from "../runtime/releases-file.ts";
import { planView, type PlanView } from "./plan-view.ts";

export const POLL_MS = 1_000;
export const JOURNAL_GAP_MS = 100;
const JOURNAL_WAIT_MS = 25_000;
/** Samples kept for a browser that connects later (ten minutes). */
const SAMPLES_KEPT = 600;

export type FeedEvent =
  | { event: "node"; data: { up: boolean; error?: string; at: number } }
  | { event: "overview"; data: Overview }
  | { event: "samples"; data: Sample[] }
  | { event: "journal"; data: { seq: number; records: InstallRecord[]; sentAt: number } };

export interface Overview {
  status: ControlResults["status"];
  releases: { name: string; version: string; status: "unpacked" | "current" | "permanent" | "old" }[];
  summary: ControlResults["process-summary"];
  tree: Extract<ControlResults["tree"], { applications: unknown }>["applications"];
}

const readOnly: ReadonlySet<string> = new Set(READ_ONLY_COMMANDS);

export class NodeFeed {
  readonly root: string;
  #listeners = new Set<(e: FeedEvent) => void>();
  #latest = new Map<FeedEvent["event"], FeedEvent>();
  #samples: Sample[] = [];
  #plans = new Map<number, PlanView>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  /** which start the loops belong to: a loop of an earlier start (still waiting on the node) ends when it wakes */
  #generation = 0;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** A read-only request to the node: anything else is refused here, before it is sent. */
  ask<R extends ReadOnlyRequest>(request: R, timeout = 10_000) {
    if (!readOnly.has(request.cmd)) throw new Error(`relup observe sends only read-only requests; ${request.cmd} is not one`);
    return controlRequest(this.root, request, { timeout });
  }

  /** Start watching (the first listener starts the polling); the latest of each event comes at once. */
  subscribe(listener: (e: FeedEvent) => void): () => void {
    this.#listeners.add(listener);
    for (const e of this.#latest.values()) listener(e.event === "samples" ? { event: "samples", data: this.#samples } : e);
    if (!this.#running) this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.stop();
    };
  }

  /** The plan a journal record ran, as Markdown and HTML (undefined until read, or if the node no longer has it). */
  plan(id: number): PlanView | undefined {
    return this.#plans.get(id);
  }

  stop(): void {
    this.#running = false;
    this.#generation++;
    clearTimeout(this.#timer);
  }

  #emit(e: FeedEvent): void {
    if (e.event !== "samples") this.#latest.set(e.event, e);
    else this.#latest.set("samples", e);
    for (const listener of this.#listeners) listener(e);
  }

  #start(): void {
    this.#running = true;
    const generation = ++this.#generation;
    void this.#poll(generation);
    void this.#followJournal(generation);
  }

  async #poll(generation: number): Promise<void> {
    if (generation !== this.#generation) return;
    try {
      const [status, summary, tree, samples] = await Promise.all([this.ask({ cmd: "status" }), this.ask({ cmd: "process-summary" }), this.ask({ cmd: "tree" }), this.ask({ cmd: "samples", after: this.#samples.at(-1)?.t ?? 0 })]);
      // RELEASES read from the root: the node's `releases` waits behind an install, the file never does.
      const file = await readReleasesFile(this.root);
      if (generation !== this.#generation) return;
      const running = status.release.version;
      const releases = (file?.releases ?? []).map((r) => ({ name: file!.name, version: r.version, status: r.version === running && r.status !== "permanent" ? ("current" as const) : r.status }));
      this.#up();
      const overview: Overview = { status, releases, summary, tree: "applications" in tree ? tree.applications : [] };
      const previous = this.#latest.get("overview") as Extract<FeedEvent, { event: "overview" }> | undefined;
      // Another node (a restart, a takeover): its samples start afresh, asked from its own beginning next time.
      if (previous && previous.data.status.pid !== status.pid) {
        this.#samples = [];
        samples.samples = [];
      }
      if (!previous || JSON.stringify(withoutUptime(previous.data)) !== JSON.stringify(withoutUptime(overview))) this.#emit({ event: "overview", data: overview });
      if (samples.samples.length > 0 || !this.#latest.has("samples")) {
        this.#samples = [...this.#samples, ...samples.samples].slice(-SAMPLES_KEPT);
        this.#emit({ event: "samples", data: samples.samples });
      }
    } catch (error) {
      this.#down(error);
    }
    if (generation === this.#generation) this.#timer = setTimeout(() => void this.#poll(generation), POLL_MS);
  }

  async #followJournal(generation: number): Promise<void> {
    // From what the feed last showed: a page opened again gets that at once, and then only what changes.
    let seq = (this.#latest.get("journal") as Extract<FeedEvent, { event: "journal" }> | undefined)?.data.seq;
    const asked = new Set<number>();
    while (generation === this.#generation) {
      try {
        const answer = await this.ask({ cmd: "journal", ...(seq !== undefined ? { after: seq, wait: JOURNAL_WAIT_MS } : {}) }, JOURNAL_WAIT_MS + 10_000);
        // Stopped (and maybe started again) while the node held the request: this loop is not the feed's now.
        if (generation !== this.#generation) return;
        // The plan of a record seen for the first time, read once (before the record is shown, so that its view is there).
        const want = answer.records.map((r) => r.id).filter((id) => !asked.has(id) && !this.#plans.has(id));
        if (want.length > 0) {
          for (const id of want) asked.add(id);
          const { plans } = await this.ask({ cmd: "journal", plans: want });
          for (const [id, plan] of Object.entries(plans)) this.#plans.set(Number(id), await planView(this.root, plan));
        }
        if (answer.seq !== seq) {
          seq = answer.seq;
          this.#emit({ event: "journal", data: { seq: answer.seq, records: answer.records, sentAt: Date.now() } });
        }
        await delay(JOURNAL_GAP_MS);
      } catch (error) {
        this.#down(error);
        await delay(POLL_MS);
      }
    }
  }

  #up(): void {
    const node = this.#latest.get("node") as Extract<FeedEvent, { event: "node" }> | undefined;
    if (!node || !node.data.up) this.#emit({ event: "node", data: { up: true, at: Date.now() } });
  }

  #down(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const node = this.#latest.get("node") as Extract<FeedEvent, { event: "node" }> | undefined;
    if (!node || node.data.up || node.data.error !== message) this.#emit({ event: "node", data: { up: false, error: message, at: Date.now() } });
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The overview without what changes every second by itself (uptime, memory): those alone send no event. */
function withoutUptime(o: Overview): unknown {
  const { uptimeMs: _u, memory: _m, ...status } = o.status;
  return { ...o, status };
}
