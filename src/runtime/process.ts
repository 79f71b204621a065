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

export type Pid = string;
export type ProcessStatus = "running" | "suspended" | "exiting" | "dead";

export interface From {
  pid: Pid | undefined;
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

export class Proc {
  status: ProcessStatus = "running";
  state: unknown = undefined;
  readonly mailbox: Message[] = [];
  readonly links = new Set<Pid>();
  /** monitor reference → the process watching this one */
  readonly watchers = new Map<number, Pid>();
  trapExit = false;
  busy = false;
  /** the module version whose code the handler in flight runs (a soft purge of that version waits for it) */
  running: unknown = undefined;
  handled = 0;
  /** resolves when the handler in flight finishes */
  #idle: (() => void)[] = [];

  constructor(
    readonly pid: Pid,
    /** the callback module, `app/module` */
    readonly module: string,
    /**
     * every module this process uses (callback module included), for suspend and code_change; changed
     * only through Runtime.setModules, which keeps the module index in step
     */
    public modules: readonly string[],
    readonly behaviour: Behaviour,
    readonly name: string | undefined,
    readonly startedAt: number,
  ) {}

  /** Wait until no handler is running. */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  markIdle(): void {
    this.busy = false;
    for (const resolve of this.#idle.splice(0)) resolve();
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
