/**
 * The node's release reader: one worker thread that reads, hashes and verifies new releases and prepares
 * the modules an install loads (prepare-release.ts), so that the node's event loop only receives the
 * answer, plain data, and keeps serving meanwhile. Jobs run one at a time, in order.
 *
 * The thread starts with the first job and ends after `idleMs` without one (60 s by default), so that a
 * node that is not being upgraded holds no second V8 isolate. It never keeps the node alive by itself
 * (unreferenced while idle). If it dies (an internal error, memory), every job waiting on it fails with
 * an Error saying so (the install is refused, nothing changed) and the next job starts a new thread.
 * `close()` ends it for good, at the node's stop.
 */
import { Worker } from "node:worker_threads";
import { workerEntry } from "./entry-args.ts";
import type { PrepareAnswer, PrepareJob, ReadTarget } from "./prepare-release.ts";
import { fromReaderError } from "./reader-error.ts";
import type { ReaderJob, ReaderReply, ReaderRequest } from "./release-reader-worker.ts";

const ENTRY = workerEntry(import.meta.dirname, "release-reader-worker");
/** How long the thread stays without a job before it ends. */
export const READER_IDLE_MS = 60_000;

export interface ReleaseReaderOptions {
  /** ms without a job before the thread ends (default READER_IDLE_MS) */
  idleMs?: number;
  /** the thread's entry file (default: release-reader-worker); tests give one that holds the thread */
  entry?: string;
  /** given to the thread as `workerData` (with `entry`) */
  workerData?: unknown;
  /** told when a thread starts and when it has ended (idle, closed or lost) */
  onThread?: (event: "started" | "ended") => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class ReleaseReader {
  readonly #options: ReleaseReaderOptions;
  #worker: Worker | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #idle: NodeJS.Timeout | undefined;
  #closed = false;
  /** how many threads this reader has started (for tests: one per idle period, not one per job) */
  started = 0;

  constructor(options: ReleaseReaderOptions = {}) {
    this.#options = options;
  }

  /** `readRelease` of a release directory, or of a tarball extracted `into` a new directory, in the thread. */
  read(source: string, into?: string): Promise<ReadTarget> {
    return this.#run({ kind: "read", source, ...(into === undefined ? {} : { into }) }) as Promise<ReadTarget>;
  }

  /** An install's reading and checks of its target release (prepare-release.ts), in the thread. */
  prepare(job: PrepareJob): Promise<PrepareAnswer> {
    return this.#run({ kind: "prepare", ...job }) as Promise<PrepareAnswer>;
  }

  /** Whether the thread is running now. */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** End the thread; a job still waiting fails. Later jobs are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#stop(new Error("the node is stopping"));
  }

  #run(job: ReaderJob): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error("the release reader is closed: the node is stopping"));
    const worker = this.#thread();
    const id = this.#nextId++;
    clearTimeout(this.#idle);
    worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, job } satisfies ReaderRequest);
    });
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#options.entry ?? ENTRY, { workerData: this.#options.workerData, stdout: true });
    // The node's stdout is its JSON log: anything the thread prints goes to stderr instead.
    worker.stdout.pipe(process.stderr, { end: false });
    this.started++;
    this.#options.onThread?.("started");
    worker.once("exit", () => this.#options.onThread?.("ended"));
    worker.on("message", (reply: ReaderReply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if ("error" in reply) pending.reject(fromReaderError(reply.error));
      else pending.resolve(reply.value);
      if (this.#pending.size === 0) this.#rest(worker);
    });
    worker.on("error", (error) => this.#lost(worker, `the release reader thread failed: ${error.message}`));
    worker.on("exit", (code) => this.#lost(worker, `the release reader thread ended (exit code ${code})`));
    this.#worker = worker;
    return worker;
  }

  /** No job left: the thread no longer keeps the node alive, and ends after `idleMs`. */
  #rest(worker: Worker): void {
    worker.unref();
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => void this.#stop(), this.#options.idleMs ?? READER_IDLE_MS);
    this.#idle.unref();
  }

  #lost(worker: Worker, why: string): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    clearTimeout(this.#idle);
    this.#failAll(new Error(`${why}; nothing was changed, and the next request starts it again`));
  }

  async #stop(error?: Error): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    clearTimeout(this.#idle);
    if (error) this.#failAll(error);
    await worker?.terminate();
  }

  #failAll(error: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
  }
}
