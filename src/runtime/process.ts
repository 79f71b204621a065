/**
 * A process: a pid, an optional registered name, a mailbox, a state, a callback module and the modules
 * it declares. It handles one message at a time; a handler may be async and the next message waits for
 * it. The callback module is looked up by name for every message (in its Behaviour), so after a load
 * and a code_change the next message runs the new code with the migrated state.
 *
 * Status (cf. xstate's ProcessingStatus):
 *   running    messages are dispatched
 *   suspended  no message is dispatched; new ones queue, in order, never dropped
 *   exiting    terminating; nothing more is dispatched
 *   dead       gone from the registry
 */
import type { Json } from "../release/names.ts";

/**
 * A process id inside the node: a number, from 1 up, never reused while the node runs. The runtime's
 * tables, links, monitors and supervisors' child records hold it as it is (a small integer costs no
 * allocation); it is printed `<0.N.0>` (Pid) only at the edges: what user code gets from relup/runtime
 * and in its messages, logs, errors and the control protocol.
 */
export type ProcId = number;
/** A pid as user code, logs and `relup processes` see it: `<0.12.0>`. */
export type Pid = string;
export type ProcessStatus = "running" | "suspended" | "exiting" | "dead";

/** The printed form of a process id: `<0.12.0>`. */
export function formatPid(id: ProcId): Pid {
  return `<0.${id}.0>`;
}

/** The process id a printed pid names, or undefined for any other string (a registered name). */
export function parsePid(pid: string): ProcId | undefined {
  if (typeof pid !== "string" || pid.length < 6 || !pid.startsWith("<0.") || !pid.endsWith(".0>")) return undefined;
  const digits = pid.slice(3, -3);
  if (!/^[1-9][0-9]{0,14}$/.test(digits)) return undefined;
  return Number(digits);
}

export interface From {
  /** the caller's pid, printed; undefined when the call came from outside any process */
  readonly pid: Pid | undefined;
  reply(value: unknown): void;
  fail(error: Error): void;
}

export type Message =
  | { kind: "call"; request: unknown; from: From }
  | { kind: "cast"; msg: unknown }
  | { kind: "info"; msg: unknown };

/** How one kind of process handles its messages, its code change and its end. */
export interface Behaviour {
  readonly kind: "server" | "supervisor";
  handle(proc: Proc, message: Message): Promise<void>;
  /**
   * The migrated state, synchronously (a migration that returns a value) or as a promise. It never
   * assigns the state itself: the runtime does, so that a migration abandoned after its timeout cannot
   * overwrite the state later.
   */
  codeChange(proc: Proc, vsn: unknown, extra: Json): unknown;
  /**
   * The runtime stopped waiting for this process's async codeChange (its timeout expired): whatever the
   * migration set going must be undone, and what it does later must not stay (a supervisor stops the
   * children its code change started). Its late result is ignored either way.
   */
  abandonCodeChange?(proc: Proc): void;
  terminate(proc: Proc, reason: unknown): Promise<void>;
}

const NO_MESSAGES: readonly Message[] = Object.freeze([]);

/**
 * One row of the process table, kept small: a fleet of idle servers costs their states and little more.
 * What most processes never use is created on first use: the message queue (a message to an idle running
 * process is dispatched without queueing), the monitors, the waiters for the handler in flight. Links are
 * a single process id inline (a supervised child's link to its supervisor), a set only from the second.
 * Suspension is the status field alone.
 */
export class Proc {
  status: ProcessStatus = "running";
  state: unknown = undefined;
  /** messages waiting (undefined while none waits) */
  queue: Message[] | undefined = undefined;
  /** the linked processes: none, one process id, or a set of them from the second */
  #links: ProcId | Set<ProcId> | undefined = undefined;
  /** monitor reference → the process watching this one (undefined until the first monitor) */
  watchers: Map<number, ProcId> | undefined = undefined;
  trapExit = false;
  busy = false;
  /** the module version whose code the handler in flight runs (a soft purge of that version waits for it) */
  running: unknown = undefined;
  handled = 0;
  /** resolves when the handler in flight finishes (undefined until someone waits) */
  #idle: (() => void)[] | undefined = undefined;

  constructor(
    /** the process id; `pid` is its printed form */
    readonly id: ProcId,
    /** the callback module, `app/module` */
    readonly module: string,
    /**
     * every module this process uses (callback module included), for suspend and code_change; changed
     * only through Runtime.setModules, which keeps the module index in step (shared between processes
     * that use the same modules: never modified in place)
     */
    public modules: readonly string[],
    readonly behaviour: Behaviour,
    readonly name: string | undefined,
  ) {}

  /** The pid as user code and logs see it: `<0.12.0>`. */
  get pid(): Pid {
    return formatPid(this.id);
  }

  /** The messages waiting, oldest first. */
  get mailbox(): readonly Message[] {
    return this.queue ?? NO_MESSAGES;
  }

  /** The processes linked to this one. */
  links(): ProcId[] {
    const links = this.#links;
    return links === undefined ? [] : typeof links === "number" ? [links] : [...links];
  }

  isLinked(id: ProcId): boolean {
    const links = this.#links;
    return links === id || (typeof links === "object" && links.has(id));
  }

  addLink(id: ProcId): void {
    const links = this.#links;
    if (links === undefined) this.#links = id;
    else if (typeof links === "number") {
      if (links !== id) this.#links = new Set([links, id]);
    } else links.add(id);
  }

  removeLink(id: ProcId): void {
    const links = this.#links;
    if (links === id) this.#links = undefined;
    else if (typeof links === "object") {
      links.delete(id);
      if (links.size === 1) this.#links = links.values().next().value;
      else if (links.size === 0) this.#links = undefined;
    }
  }

  /** Wait until no handler is running. */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => (this.#idle ??= []).push(resolve));
  }

  markIdle(): void {
    this.busy = false;
    const idle = this.#idle;
    if (idle === undefined) return;
    this.#idle = undefined;
    for (const resolve of idle) resolve();
  }

  uses(module: string): boolean {
    return this.module === module || this.modules.includes(module);
  }
}

/** What a failed call reports: the target, and why. */
export class CallError extends Error {
  override readonly name = "CallError";
  constructor(
    message: string,
    readonly reason: "noproc" | "timeout" | "exit" | "handler",
  ) {
    super(message);
  }
}

export class SuspendTimeout extends Error {
  override readonly name = "SuspendTimeout";
  constructor(readonly pid: Pid, readonly module: string, readonly ms: number) {
    super(`process ${pid} (${module}) did not suspend within ${ms} ms: its handler is still running`);
  }
}

export class CodeChangeTimeout extends Error {
  override readonly name = "CodeChangeTimeout";
  constructor(readonly pid: Pid, readonly module: string, readonly ms: number) {
    super(`codeChange of process ${pid} (${module}) did not settle within ${ms} ms`);
  }
}

/** What a call's handler gets as `from`: the caller's pid is printed only if the handler reads it. */
export class CallFrom implements From {
  constructor(
    readonly caller: ProcId | undefined,
    readonly reply: (value: unknown) => void,
    readonly fail: (error: Error) => void,
  ) {}

  get pid(): Pid | undefined {
    return this.caller === undefined ? undefined : formatPid(this.caller);
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
