/**
 * The node's release reader: one worker thread that reads, hashes and verifies new releases and prepares
 * the modules an install loads (prepare-release.ts), so that the node's event loop only receives the
 * answer, plain data, and keeps serving meanwhile. Jobs run one at a time, in order.
 *
 * A small release is read on the node's own thread instead, as the same job: its reading is already
 * asynchronous (files streamed through the hash, one at a time), and what runs at once (parsing
 * release.json and app.json, the checks, compiling its modules) takes well under a millisecond per
 * piece, while starting the thread costs a second V8 isolate's start (about 200 ms of CPU from dist/,
 * 600 ms from the sources) whose contention, on a busy machine, delayed the node's answers more than
 * the work it took away (bench/README.md). A job goes to the thread when what the event loop would
 * parse or compile at once is `threadFromBytes` or more (THREAD_FROM_BYTES: release.json plus the modules
 * the plan loads, or a tarball's size), or when the thread is running anyway.
 *
 * The thread starts with the first job and ends after `idleMs` without one (60 s by default), so that a
 * node that is not being upgraded holds no second V8 isolate. It never keeps the node alive by itself
 * (unreferenced while idle). If it dies (an internal error, memory), every job waiting on it fails with
 * an Error saying so (the install is refused, nothing changed) and the next job starts a new thread.
 * `close()` ends it for good, at the node's stop.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { moduleFile } from "../release/app-file.ts";
import { appDir, RELEASE_FILE } from "../release/release-file.ts";
import { workerEntry } from "./entry-args.ts";
import { prepareRelease, readTarget, type PrepareAnswer, type PrepareJob, type ReadTarget } from "./prepare-release.ts";
import { fromReaderError } from "./reader-error.ts";
import type { ReaderJob, ReaderReply, ReaderRequest } from "./release-reader-worker.ts";

const ENTRY = workerEntry(import.meta.dirname, "release-reader-worker");
/** How long the thread stays without a job before it ends. */
export const READER_IDLE_MS = 60_000;
/**
 * From this size (bytes of release.json and of the modules an install loads, or of a tarball) a job runs in
 * the thread: compiling 256 KiB of module code or parsing a release.json of that size (about 2,500 files)
 * takes some 10 to 20 ms at once on the event loop, several of the executor's 5 ms slices.
 */
export const THREAD_FROM_BYTES = 256 * 1024;

export interface ReleaseReaderOptions {
  /** ms without a job before the thread ends (default READER_IDLE_MS) */
  idleMs?: number;
  /** jobs this size and larger run in the thread (default THREAD_FROM_BYTES; 0: every job) */
  threadFromBytes?: number;
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
  /** how many jobs ran in the thread and on the node's own thread */
  readonly jobs = { thread: 0, here: 0 };

  constructor(options: ReleaseReaderOptions = {}) {
    this.#options = options;
  }

  /** `readRelease` of a release directory, or of a tarball extracted `into` a new directory. */
  async read(source: string, into?: string): Promise<ReadTarget> {
    this.#open();
    const info = await stat(source).catch(() => undefined);
    const size = info?.isDirectory() ? await sizeOf(path.join(source, RELEASE_FILE)) : (info?.size ?? 0);
    if (!this.#inThread(size)) return readTarget(source, into);
    return (await this.#run({ kind: "read", source, ...(into === undefined ? {} : { into }) })) as ReadTarget;
  }

  /** An install's reading and checks of its target release (prepare-release.ts). */
  async prepare(job: Omit<PrepareJob, "compile">): Promise<PrepareAnswer> {
    this.#open();
    const script = job.direction === "up" ? job.plan.up : job.plan.down;
    const files = [path.join(job.dir, RELEASE_FILE), ...script.flatMap((i) => (i.op === "load_object_code" ? i.modules.map((m) => path.join(job.dir, appDir({ name: i.application, version: i.version }), moduleFile(m))) : []))];
    const size = (await Promise.all(files.map(sizeOf))).reduce((a, b) => a + b, 0);
    if (!this.#inThread(size)) return prepareRelease({ ...job, compile: false });
    return (await this.#run({ kind: "prepare", ...job, compile: true })) as PrepareAnswer;
  }

  #inThread(size: number): boolean {
    const thread = this.#worker !== undefined || size >= (this.#options.threadFromBytes ?? THREAD_FROM_BYTES);
    this.jobs[thread ? "thread" : "here"]++;
    return thread;
  }

  #open(): void {
    if (this.#closed) throw new Error("the release reader is closed: the node is stopping");
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

/** A file's size, 0 when it cannot be read (the job then reports what is wrong with it). */
async function sizeOf(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? 0;
}
