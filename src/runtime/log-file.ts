/**
 * A JSON-lines log file the launcher appends to, that never takes the launcher down: a line that cannot
 * be written (a full disk, a quota, an I/O error) is dropped and counted, and the next line that can be
 * written is preceded by one that says how many were lost and why. Lines are written one at a time, in
 * order; a backlog past `maxQueued` lines is dropped the same way, so a stalled disk cannot grow memory.
 */
import { close, write } from "node:fs";

export class LogFile {
  #queue: string[] = [];
  /** the rest of a line a short write left: written before any other, so no line is ever torn */
  #rest: Buffer | undefined;
  #writing = false;
  #lost = 0;
  #lostBecause = "";
  #ending: (() => void) | undefined;
  #closed = false;
  /** told when the queue is empty: every line written so far is on disk (or dropped) */
  #idle: (() => void)[] = [];

  constructor(
    private readonly fd: number,
    private readonly maxQueued = 10_000,
  ) {}

  /** Append `line` (a newline is added). After `end()`, lines are dropped: the file is being closed. */
  write(line: string): void {
    if (this.#ending) return;
    if (this.#queue.length >= this.maxQueued) this.#drop("backlog");
    else this.#queue.push(line + "\n");
    this.#next();
  }

  /**
   * Resolves once every line written so far is on disk (or dropped), or after `limitMs` (a hung write):
   * what a reader of the file may rely on, e.g. before the launcher reports a failure the log explains.
   */
  flushed(limitMs = 5_000): Promise<void> {
    if (!this.#writing && !this.#rest && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, limitMs);
      this.#idle.push(done);
    });
  }

  /**
   * Write what is queued (a line the disk cannot take is dropped), then close the file. Resolves within
   * `limitMs` even if a write never returns (a hung network file system); the file is then left open.
   */
  end(limitMs = 5_000): Promise<void> {
    if (this.#ending) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, limitMs);
      this.#ending = () => {
        if (this.#closed) return;
        this.#closed = true;
        close(this.fd, () => {
          clearTimeout(timer);
          resolve();
        });
      };
      this.#next();
    });
  }

  #drop(reason: string): void {
    this.#lost++;
    this.#lostBecause = reason;
  }

  #next(): void {
    if (this.#writing) return;
    let chunk = this.#rest;
    let reported = 0;
    if (!chunk) {
      const line = this.#queue.shift();
      if (line === undefined) {
        for (const done of this.#idle.splice(0)) done();
        return this.#ending?.();
      }
      reported = this.#lost;
      chunk = Buffer.from(reported > 0 ? JSON.stringify({ time: new Date().toISOString(), event: "log lines lost", count: reported, error: this.#lostBecause }) + "\n" + line : line);
    }
    const text = chunk;
    this.#writing = true;
    write(this.fd, text, 0, text.length, null, (error, written) => {
      this.#writing = false;
      if (error && this.#rest) {
        // The end of a torn line: kept for the next attempt (the next line logged, or end), unless ending.
        if (!this.#ending) return;
        this.#rest = undefined;
      }
      if (error) this.#drop(error.code ?? error.message);
      else {
        this.#lost -= reported;
        this.#rest = written < text.length ? text.subarray(written) : undefined;
      }
      this.#next();
    });
  }
}
