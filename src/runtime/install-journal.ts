/**
 * The install journal: what the node's recent installs and rollbacks did, step by step, for whoever
 * watches them (`relup observe`). It keeps the last few records (RECORDS_KEPT), the current one last,
 * each written from the executor's progress events as they happen:
 *
 *   steps           each plan step's start and end (epoch ms, fractions kept), its op and detail
 *   suspensions     each module's suspend window: from the start of the suspend step that holds it to
 *                   the end of the resume step that lets it go (or the end of a rollback, which resumes all)
 *   migrated        per module, how many of its processes code_change has migrated so far, of how many
 *   pointOfNoReturn when the plan passed it
 *   rollback        when a failed step started the rollback, how many changes it undid, and why
 *   barriers        each barrier point the install reached (steps/barrier.ts): when it started holding,
 *                   whether it waited for a decision, and the decision (go, abort, timeout) and when
 *
 * Reading it changes nothing. `seq` grows with every change, so that a reader polls with a cursor
 * (`journal {after: seq, wait}` answers as soon as there is something newer, or after `wait` ms).
 * Records live in memory only: a node that took over by restart_new_emulator starts with none.
 */
import type { RelupFile } from "../relup/instruction.ts";
import type { Progress } from "./executor.ts";

/** How many installs and rollbacks the journal keeps (the current one and the ones before it). */
export const RECORDS_KEPT = 4;

export interface JournalStep {
  index: number;
  op: string;
  detail: string;
  /** the modules a suspend or resume step holds or lets go */
  modules?: string[];
  start: number;
  end?: number;
  ms?: number;
}

export interface InstallRecord {
  id: number;
  kind: "install" | "rollback";
  /** the release the node ran when it started */
  from: string;
  /** the release it installs (for a rollback, known once it ran) */
  to?: string;
  permanent?: boolean;
  startedAt: number;
  endedAt?: number;
  /** running; installed (every step ran); rolled-back (a step failed, the node is back as it was); refused (by the preflight: nothing ran) */
  outcome: "running" | "installed" | "rolled-back" | "refused";
  /** why it failed: the runtime issue's kind and its cause */
  failure?: { kind: string; cause?: string; index?: number };
  /** the number of steps of the script it runs */
  total?: number;
  steps: JournalStep[];
  suspensions: { module: string; start: number; end?: number }[];
  migrated: { module: string; done: number; total: number }[];
  pointOfNoReturn?: number;
  rollback?: { start: number; steps: number; cause: string };
  barriers?: { id: string; start: number; waits: boolean; end?: number; decision?: "go" | "abort" | "timeout" }[];
}

export interface JournalResult {
  seq: number;
  records: InstallRecord[];
  /** the plans of the records asked for (`plans: [id]`), by record id */
  plans: Record<string, RelupFile>;
}

/** Wall-clock milliseconds with the monotonic clock's fractions: steps of a fraction of a millisecond keep their order. */
const now = () => Math.round((performance.timeOrigin + performance.now()) * 100) / 100;

export class InstallJournal {
  #seq = 0;
  #nextId = 1;
  #records: InstallRecord[] = [];
  #plans = new Map<number, RelupFile>();
  #waiters = new Set<() => void>();

  /** Record an install or rollback while `run` carries it out with the progress callback it is given. */
  async track<T extends { to?: string; permanent?: boolean }>(start: { kind: InstallRecord["kind"]; from: string; to?: string; plan?: RelupFile }, forward: ((event: unknown) => void) | undefined, run: (progress: (event: Progress) => void) => Promise<T>): Promise<T> {
    const record: InstallRecord = { id: this.#nextId++, kind: start.kind, from: start.from, ...(start.to !== undefined ? { to: start.to } : {}), startedAt: now(), outcome: "running", steps: [], suspensions: [], migrated: [] };
    const plan = start.plan ?? this.#planTo(start.from);
    this.#records.push(record);
    if (plan) this.#plans.set(record.id, plan);
    while (this.#records.length > RECORDS_KEPT) this.#plans.delete(this.#records.shift()!.id);
    this.#changed();
    try {
      const result = await run((event) => {
        this.#record(record, event);
        forward?.(event);
      });
      this.#end(record, "installed");
      if (result.to !== undefined) record.to = result.to;
      if (result.permanent !== undefined) record.permanent = result.permanent;
      return result;
    } catch (error) {
      const issue = (error as { issue?: { kind?: string; cause?: string; index?: number } }).issue;
      const failure = { kind: issue?.kind ?? "node-failed", ...(issue?.cause !== undefined ? { cause: issue.cause } : error instanceof Error && !issue ? { cause: error.message } : {}), ...(issue?.index !== undefined ? { index: issue.index } : {}) };
      this.#end(record, record.steps.length === 0 ? "refused" : "rolled-back", failure);
      throw error;
    }
  }

  /**
   * The records (oldest first) at once if the journal's seq is not `after`, else once it changes or `waitMs`
   * passed. (Not only a newer seq: a reader that followed a node before it restarted holds a larger one.)
   */
  async read(options: { after?: number; waitMs?: number; plans?: readonly number[] } = {}): Promise<JournalResult> {
    if (options.after === this.#seq && (options.waitMs ?? 0) > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, options.waitMs);
        this.#waiters.add(done);
      });
    }
    const plans: Record<string, RelupFile> = {};
    for (const id of options.plans ?? []) {
      const plan = this.#plans.get(id);
      if (plan) plans[String(id)] = plan;
    }
    return { seq: this.#seq, records: this.#records.map((r) => structuredClone(r)), plans };
  }

  /** A rollback runs the plan that installed the running release, the other way: the latest record of it. */
  #planTo(version: string): RelupFile | undefined {
    const installed = [...this.#records].reverse().find((r) => r.kind === "install" && r.to === version && r.outcome === "installed");
    return installed ? this.#plans.get(installed.id) : undefined;
  }

  #record(record: InstallRecord, event: Progress): void {
    const t = now();
    switch (event.phase) {
      case "step": {
        record.total = event.total;
        record.steps.push({ index: event.index, op: event.op, detail: event.detail, ...(event.modules ? { modules: event.modules } : {}), start: t });
        if (event.op === "point_of_no_return") record.pointOfNoReturn = t;
        if (event.op === "suspend") for (const module of event.modules ?? []) record.suspensions.push({ module, start: t });
        break;
      }
      case "step-done": {
        const step = record.steps.findLast((s) => s.index === event.index);
        if (!step) break;
        Object.assign(step, { end: t, ms: event.ms });
        const resumed = new Set(step.op === "resume" ? step.modules : []);
        for (const window of record.suspensions) if (window.end === undefined && resumed.has(window.module)) window.end = t;
        break;
      }
      case "code_change": {
        const entry = record.migrated.find((m) => m.module === event.module);
        if (entry) Object.assign(entry, { done: event.done, total: event.total });
        else record.migrated.push({ module: event.module, done: event.done, total: event.total });
        break;
      }
      case "rollback":
        record.rollback = { start: t, steps: event.steps, cause: event.cause };
        break;
      case "barrier":
        (record.barriers ??= []).push({ id: event.barrier.id, start: t, waits: event.waits, ...(event.waits ? {} : { end: t }) });
        break;
      case "barrier-decided": {
        const held = record.barriers?.findLast((b) => b.id === event.id && b.end === undefined);
        if (held) Object.assign(held, { end: t, decision: event.decision });
        break;
      }
    }
    this.#changed();
  }

  #end(record: InstallRecord, outcome: InstallRecord["outcome"], failure?: InstallRecord["failure"]): void {
    const t = now();
    record.endedAt = t;
    record.outcome = outcome;
    if (failure) record.failure = failure;
    // A rollback resumes every process it had suspended; a step that failed has no end of its own.
    for (const window of record.suspensions) window.end ??= t;
    for (const step of record.steps) step.end ??= t;
    this.#changed();
  }

  #changed(): void {
    this.#seq++;
    for (const wake of [...this.#waiters]) wake();
  }
}
