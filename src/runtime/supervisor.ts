/**
 * The `supervisor` behaviour: starts child processes from the specs its callback module's `init(args)`
 * returns, restarts them when they exit, and gives up when they restart too often.
 *
 *   init(args) → { strategy?, intensity?, period?, children: [{ id, module, args?, name?, modules?, restart?, shutdown? }] }
 *   strategy   one_for_one (default): restart the child that exited; one_for_all: restart all;
 *              rest_for_one: restart it and the children started after it
 *   intensity  more than `intensity` restarts (default 3) within `period` seconds (default 5) and the
 *              supervisor stops its children and exits, so that its own supervisor or application reacts
 *   restart    permanent (default): always restarted; transient: unless it exited normally; temporary: never
 *   shutdown   ms to wait for a child's terminate before it is killed (default 5000), "brutal_kill", or
 *              "infinity" (wait for terminate however long it takes; OTP's choice for a child supervisor)
 *
 * A child's module is its application's (`worker`) or qualified (`core/store`); it runs as a supervisor
 * when that module's behaviour is "supervisor", else as a server. Children are linked to the supervisor.
 * Dynamic children: start_child, terminate_child, restart_child, delete_child, which_children calls.
 *
 * code_change re-runs `init(args)` of the loaded code: children whose id stays get the new spec and keep
 * running (their process's module list follows the new spec); children with a new id are started;
 * children whose id is gone are stopped when the upgrade commits (OTP leaves the last two to apply
 * instructions). Children started with start_child are not init's and are kept. Starting children makes
 * the code change async, so it has the code change timeout too: when the runtime abandons it, the
 * children it started are stopped (those already up at once, one still starting once it is up). A failed
 * install undoes a code change through undoCodeChange: old specs and flags come back, each child keeping its process.
 */
import { startServerNow } from "./server.ts";
import { ChildSpecInput, qualifySpec, readFlags, type ChildSpec, type Strategy } from "./supervisor-flags.ts";
import { formatPid, parsePid, type Behaviour, type Pid, type Proc, type ProcId } from "./process.ts";
import { TimeSlice } from "./steps/time-slice.ts";
import type { Runtime, SpawnOptions } from "./runtime.ts";

export type { ChildSpec, SupervisorInitResult } from "./supervisor-flags.ts";

interface Child {
  spec: ChildSpec;
  /** the running child's process id (printed only in replies: which_children, start_child) */
  pid: ProcId | undefined;
  terminating: boolean;
  /** started by start_child: not one of init's specs, so a code change (which re-reads init) keeps it */
  dynamic?: true;
  /** how many times this supervisor restarted the child (read by supervision-tree.ts) */
  restarts?: number;
}

export interface SupState {
  args: unknown;
  /** children whose id the last code change removed: stopped when the upgrade commits (retireChildren) */
  retiring: Child[];
  strategy: Strategy;
  intensity: number;
  period: number;
  children: Child[];
  restarts: number[];
}

type SupRequest =
  | { op: "which_children" }
  | { op: "start_child"; spec: ChildSpecInput }
  | { op: "terminate_child"; id: string; kill?: boolean }
  | { op: "restart_child"; id: string }
  | { op: "delete_child"; id: string };

export async function startSupervisor(runtime: Runtime, module: string, args: unknown, options: SpawnOptions = {}): Promise<Proc> {
  return runtime.spawn(module, supervisorBehaviour(runtime), (proc) => initSupervisor(runtime, proc, args), { ...options, trapExit: true });
}

/**
 * Children start one by one, in order, and the first that fails stops the rest (OTP). A child whose init
 * is synchronous is up when startChild returns, so the loop waits only for the children whose init is
 * async; it yields to the event loop between time slices (steps/time-slice.ts), not after each child.
 */
async function initSupervisor(runtime: Runtime, proc: Proc, args: unknown): Promise<SupState> {
  const flags = readFlags(runtime, proc.module, args);
  const state: SupState = { args, retiring: [], strategy: flags.strategy, intensity: flags.intensity, period: flags.period, children: [], restarts: [] };
  const slice = new TimeSlice();
  try {
    for (const spec of flags.children) {
      const started = startChild(runtime, proc, spec);
      const child = started instanceof Promise ? await started : started;
      state.children.push({ spec, pid: child.id, terminating: false });
      if (slice.due()) await slice.yieldNow();
    }
  } catch (error) {
    await stopChildren(runtime, state.children);
    throw error;
  }
  return state;
}

/** Start a child: its process when its init is synchronous, else a promise of it. */
function startChild(runtime: Runtime, sup: Proc, spec: ChildSpec): Proc | Promise<Proc> {
  const options: SpawnOptions = spec.name !== undefined ? { modules: spec.modules, link: sup.id, name: spec.name } : { modules: spec.modules, link: sup.id };
  const isSupervisor = runtime.table.namespace(spec.module).behaviour === "supervisor";
  return isSupervisor ? startSupervisor(runtime, spec.module, spec.args, options) : startServerNow(runtime, spec.module, spec.args, options);
}

async function stopChild(runtime: Runtime, child: Child, kill = false): Promise<void> {
  const proc = child.pid !== undefined ? runtime.get(child.pid) : undefined;
  child.pid = undefined;
  if (!proc) return;
  child.terminating = true;
  if (kill || child.spec.shutdown === "brutal_kill") {
    await runtime.exit(proc, "kill");
  } else if (child.spec.shutdown === "infinity") {
    await runtime.exit(proc, "shutdown");
  } else {
    let timer: unknown;
    const killed = new Promise<void>((resolve) => {
      timer = runtime.clock.setTimeout(() => void runtime.exit(proc, "kill").then(resolve), child.spec.shutdown as number);
    });
    await Promise.race([runtime.exit(proc, "shutdown"), killed]);
    runtime.clock.clearTimeout(timer);
  }
  child.terminating = false;
}

/** Stop children in reverse start order, as a supervisor shuts down. */
async function stopChildren(runtime: Runtime, children: Child[]): Promise<void> {
  for (const child of [...children].reverse()) await stopChild(runtime, child);
}

function supervisorBehaviour(runtime: Runtime): Behaviour {
  /** the code change running now (one per supervisor process: it is suspended meanwhile) */
  let inFlight: { started: Child[]; abandoned: boolean } | undefined;
  return {
    kind: "supervisor",
    async handle(proc, message) {
      const state = proc.state as SupState;
      if (message.kind === "info") {
        const msg = message.msg as { type?: string; pid?: Pid; reason?: unknown };
        const pid = msg?.type === "EXIT" && typeof msg.pid === "string" ? parsePid(msg.pid) : undefined;
        if (pid !== undefined) await onChildExit(runtime, proc, state, pid, msg.reason);
        return;
      }
      if (message.kind !== "call") return;
      const request = message.request as SupRequest;
      const find = (id: string) => state.children.find((c) => c.spec.id === id);
      switch (request?.op) {
        case "which_children":
          message.from.reply(state.children.map((c) => ({ id: c.spec.id, pid: c.pid !== undefined ? formatPid(c.pid) : null, module: c.spec.module, modules: [...c.spec.modules], restart: c.spec.restart })));
          return;
        case "start_child": {
          const full = qualifySpec(proc.module, ChildSpecInput.parse(request.spec));
          if (find(full.id)) throw new Error(`child ${JSON.stringify(full.id)} already exists`);
          const child = await startChild(runtime, proc, full);
          state.children.push({ spec: full, pid: child.id, terminating: false, dynamic: true });
          message.from.reply(child.pid);
          return;
        }
        case "terminate_child":
        case "restart_child":
        case "delete_child": {
          const child = find(request.id);
          if (!child) return message.from.fail(new Error(`no child ${JSON.stringify(request.id)}`));
          if (request.op === "terminate_child") await stopChild(runtime, child, request.kill === true);
          if (request.op === "restart_child" && child.pid === undefined) child.pid = (await startChild(runtime, proc, child.spec)).id;
          if (request.op === "delete_child") {
            if (child.pid !== undefined) return message.from.fail(new Error(`child ${JSON.stringify(request.id)} is running; terminate it first`));
            state.children = state.children.filter((c) => c !== child);
          }
          message.from.reply(child.pid !== undefined ? formatPid(child.pid) : null);
          return;
        }
        default:
          message.from.fail(new Error(`unknown supervisor request ${JSON.stringify(request)}`));
      }
    },
    async codeChange(proc) {
      // The old state object is left as it was, so that a failed upgrade can put it back. Children with a
      // new id start now; children whose id is gone keep running until the upgrade commits.
      const state = proc.state as SupState;
      const flags = readFlags(runtime, proc.module, state.args);
      const next: Child[] = [];
      const started: Child[] = [];
      const run = { started, abandoned: false };
      inFlight = run;
      const byId = new Map(state.children.map((c) => [c.spec.id, c]));
      try {
        for (const spec of flags.children) {
          const existing = byId.get(spec.id);
          if (existing) next.push({ spec, pid: existing.pid, terminating: existing.terminating });
          else {
            const child: Child = { spec, pid: (await startChild(runtime, proc, spec)).id, terminating: false };
            started.push(child);
            next.push(child);
            // Abandoned while this child started (see abandonCodeChange): nothing of this code change stays.
            if (run.abandoned) throw new Error(`the code change of ${proc.pid} was abandoned after its timeout; the children it started are stopped`);
          }
        }
      } catch (error) {
        await stopChildren(runtime, started);
        throw error;
      } finally {
        if (inFlight === run) inFlight = undefined;
      }
      // A kept child whose spec now lists other modules uses them from now on: a later suspend of one
      // of them must find it (OTP's release_handler re-reads which_children).
      for (const child of next) {
        const running = child.pid !== undefined ? runtime.get(child.pid) : undefined;
        if (running && !sameModules(running.modules, [running.module, ...child.spec.modules])) runtime.setModules(running, child.spec.modules);
      }
      // Dynamic children were never in init's specs: they stay, after the static ones (OTP keeps them too).
      const fromInit = new Set(flags.children.map((s) => s.id));
      for (const c of state.children) if (c.dynamic && !fromInit.has(c.spec.id)) next.push({ ...c });
      const kept = new Set(next.map((c) => c.spec.id));
      const retiring = state.children.filter((c) => !kept.has(c.spec.id)).map((c) => ({ ...c }));
      return { ...state, retiring: [...state.retiring, ...retiring], strategy: flags.strategy, intensity: flags.intensity, period: flags.period, children: next } satisfies SupState;
    },
    // The runtime gave up on the code change in flight (its timeout): the children it started so far stop
    // now, and the one it is starting stops as soon as it is up (the code change then fails, and its
    // late failure is ignored). Without this, they would live on, linked to the supervisor but not its children.
    abandonCodeChange() {
      const run = inFlight;
      if (!run) return;
      run.abandoned = true;
      stopChildren(runtime, run.started).catch(() => undefined);
    },
    async terminate(proc) {
      const state = proc.state as SupState | undefined;
      await stopChildren(runtime, [...(state?.children ?? []), ...(state?.retiring ?? [])]);
    },
  };
}

/**
 * Undo a code change of this supervisor (a failed install): `saved` is the state it had. Its specs, flags
 * and retiring list come back; what happened to its children since stays, since only the current state
 * knows it: each child keeps the process that runs it now (restarted after a crash, terminated by a stop
 * step: none), found by id. A child that left since (a temporary child that exited, a delete_child) stays
 * gone. A child present now but not before is either a dynamic one, started with start_child after the
 * code change, which stays a dynamic child (OTP's code_change keeps children its init no longer names,
 * and the rollback does not undo a start_child it did not make), or one the code change started, which is
 * stopped through the supervisor (terminate runs, its exit is not taken for a crash) and dropped.
 * Restart intensity bookkeeping is live too and stays. No entry is left naming a process that is gone.
 */
export async function undoCodeChange(runtime: Runtime, proc: Proc, saved: unknown): Promise<void> {
  const [before, now] = [saved as SupState, proc.state as SupState | undefined];
  if (!now || now === before) {
    proc.state = before;
    return;
  }
  const live = new Map<string, Child>();
  for (const c of [...now.children, ...now.retiring]) if (!live.has(c.spec.id)) live.set(c.spec.id, c);
  // The live entry itself is kept (a terminate in flight holds it), with the old spec.
  const back = (old: Child): Child[] => {
    const current = live.get(old.spec.id);
    if (!current) return old.pid !== undefined && runtime.get(old.pid) ? [{ ...old, terminating: false }] : [];
    live.delete(old.spec.id);
    current.spec = old.spec;
    if (old.dynamic) current.dynamic = true;
    else delete current.dynamic;
    return [current];
  };
  const children = before.children.flatMap(back);
  const retiring = before.retiring.flatMap(back);
  const added = [...live.values()];
  const started = added.filter((c) => !c.dynamic);
  proc.state = { ...before, children: [...children, ...added.filter((c) => c.dynamic)], retiring, restarts: now.restarts } satisfies SupState;
  await stopChildren(runtime, started);
}

/** After an upgrade commits: stop the children that a code change of this supervisor removed. */
export async function retireChildren(runtime: Runtime, proc: Proc): Promise<void> {
  const state = proc.state as SupState;
  const retiring = state.retiring;
  state.retiring = [];
  await stopChildren(runtime, retiring);
}

/**
 * The modules each running child of a supervisor uses now, and how to put them back: a code change of the
 * supervisor refreshes them from its new specs, and a failed upgrade restores them.
 */
export function captureChildModules(runtime: Runtime, proc: Proc): () => void {
  const saved = ((proc.state as SupState | undefined)?.children ?? []).flatMap((c) => {
    const child = c.pid !== undefined ? runtime.get(c.pid) : undefined;
    return child ? [{ child, modules: child.modules }] : [];
  });
  return () => {
    for (const { child, modules } of saved) if (!sameModules(child.modules, modules)) runtime.setModules(child, modules);
  };
}

function sameModules(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a)];
  const y = [...new Set(b)];
  return x.length === y.length && x.every((m, i) => m === y[i]);
}

/** Children (supervisor pid, child id, pid if running) whose spec uses `module`, running or stopped (OTP's stop finds them so). */
export function childrenUsing(runtime: Runtime, module: string): { sup: ProcId; id: string; pid: ProcId | undefined; shutdown: ChildSpec["shutdown"] }[] {
  return runtime
    .processes()
    .filter((p) => p.behaviour.kind === "supervisor")
    .flatMap((sup) =>
      ((sup.state as SupState | undefined)?.children ?? [])
        .filter((c) => c.spec.module === module || c.spec.modules.includes(module))
        .map((c) => ({ sup: sup.id, id: c.spec.id, pid: c.pid, shutdown: c.spec.shutdown })),
    );
}

/**
 * Take the child running `pid` out of its supervisor at once, spec and all (OTP's terminate_child then
 * delete_child), before a purge kills it: its supervisor then neither restarts it when it dies nor retries
 * it in a later one_for_all or rest_for_one restart (its module is gone; OTP's supervisor would retry until
 * it gave up and took its own supervisor's children down with it). Synchronous, so that no message is
 * handled between this and the kill. Returns how to put the spec back where it was (undefined if `pid` is
 * no child of `sup`); `restart` then starts it again with whatever code the module has by then.
 */
export function detachChild(runtime: Runtime, sup: Proc, pid: ProcId): { reattach: () => void; restart: () => Promise<void> } | undefined {
  const state = sup.state as SupState | undefined;
  const index = state?.children.findIndex((c) => c.pid === pid) ?? -1;
  if (!state || index === -1) return undefined;
  const child = state.children[index]!;
  // A new array, not a splice: a restart loop of the supervisor may be walking the old one.
  state.children = state.children.filter((c) => c !== child);
  const entry: Child = { ...child, pid: undefined, terminating: false };
  return {
    reattach: () => {
      const now = sup.state as SupState | undefined;
      if (!now || runtime.get(sup.id) === undefined || now.children.some((c) => c.spec.id === child.spec.id)) return;
      now.children = [...now.children.slice(0, index), entry, ...now.children.slice(index)];
    },
    // By id in the supervisor's state as it is then: a rollback may have put back another state object.
    restart: async () => {
      const now = runtime.get(sup.id) !== undefined ? (sup.state as SupState | undefined)?.children.find((c) => c.spec.id === child.spec.id) : undefined;
      if (now && now.pid === undefined) await runtime.call(sup.id, { op: "restart_child", id: child.spec.id } satisfies SupRequest);
    },
  };
}

/** A process and, if it is a supervisor, every process under it: what stops when it stops. */
export function supervisedTree(runtime: Runtime, pid: ProcId): ProcId[] {
  const proc = runtime.get(pid);
  if (!proc) return [];
  const children = proc.behaviour.kind === "supervisor" ? childPids(proc).flatMap((c) => supervisedTree(runtime, c)) : [];
  return [pid, ...children];
}

/** The pids of a supervisor's children, to compare before and after a code change. */
export function childPids(proc: Proc): ProcId[] {
  return ((proc.state as SupState | undefined)?.children ?? []).flatMap((c) => (c.pid !== undefined ? [c.pid] : []));
}

async function onChildExit(runtime: Runtime, proc: Proc, state: SupState, pid: ProcId, reason: unknown): Promise<void> {
  const index = state.children.findIndex((c) => c.pid === pid);
  const child = state.children[index];
  if (!child || child.terminating) return;
  child.pid = undefined;
  const normal = reason === "normal" || reason === "shutdown";
  if (child.spec.restart === "temporary" || (child.spec.restart === "transient" && normal)) {
    if (child.spec.restart === "temporary") state.children.splice(index, 1);
    return;
  }
  const affected = state.strategy === "one_for_one" ? [child] : state.strategy === "one_for_all" ? state.children : state.children.slice(index);
  await stopChildren(runtime, affected.filter((c) => c !== child));
  for (const c of affected) {
    for (;;) {
      if (!allowRestart(runtime, state)) {
        // Not awaited: this runs inside the supervisor's own handler, and exit waits for it to finish.
        void runtime.exit(proc, "reached_max_restart_intensity");
        return;
      }
      try {
        c.pid = (await startChild(runtime, proc, c.spec)).id;
        c.restarts = (c.restarts ?? 0) + 1;
        runtime.counters.restarts++;
        break;
      } catch {
        // a child whose init fails counts as another restart, until the intensity is reached
      }
    }
  }
}

/** Record a restart; false once more than `intensity` restarts fall within `period` seconds. */
function allowRestart(runtime: Runtime, state: SupState): boolean {
  const now = runtime.clock.now();
  state.restarts = [...state.restarts.filter((t) => now - t < state.period * 1000), now];
  return state.restarts.length <= state.intensity;
}
