/**
 * The behaviours' callbacks as types, for a user's modules: `Server`, `Supervisor` and `Application`
 * describe the functions a module of that behaviour exports, and `defineServer`, `defineSupervisor` and
 * `defineApplication` check an object of callbacks against them (at run time they return it unchanged).
 *
 * A module keeps exporting its callbacks by name, as the runtime reads them; the usual form destructures
 * the checked object into those exports, next to the literal `behaviour` and `vsn` the build reads:
 *
 *   export const behaviour = "server";
 *   export const vsn = 2;
 *   export const { init, handleCall, codeChange } = defineServer<State, Request, Reply>({
 *     init: () => ({ count: 0 }),
 *     handleCall: (request, _from, state) => ({ reply: state.count, state }),
 *     codeChange: (oldVsn, state) => ...,
 *   });
 *
 * Callbacks are function-typed properties, so TypeScript checks their parameters strictly: a
 * `handleCall` that takes another request type, or returns no `state`, is a type error. `codeChange` is
 * the exception (a method signature, checked loosely): its state is the other version's, which only the
 * module knows, so it may annotate it (`state: State | StateV1`) and narrow it itself.
 */
import type { Json } from "../release/names.ts";
import type { From, Pid } from "./process.ts";
import type { SupervisorInitResult } from "./supervisor.ts";

type MaybePromise<T> = T | Promise<T>;

/** A state version: the literal `vsn` a module exports. */
export type Vsn = string | number;

/** What `codeChange` gets as its first argument: the vsn it migrates up from, or `{ down: vsn }` to go back to. */
export type OldVsn = Vsn | { down: Vsn };

/** What a server's `handleCall` returns: the reply and the next state, or `noreply` to answer later with `reply(from, value)`. */
export type CallResult<State, Reply> = { reply: Reply; state: State } | { noreply: true; state: State };

/**
 * A server module's callbacks (OTP's gen_server): `State` is its state, `Request` what `call` sends it,
 * `Reply` what `handleCall` answers, `Cast` what `cast` sends it, `Info` the plain messages it gets
 * (`send`, EXIT and DOWN notices), `Args` what `startServer` or a child spec passes to `init`. Each
 * defaults to `unknown`: a handler that has not declared what it gets must narrow it before use.
 */
export interface Server<State, Request = unknown, Reply = unknown, Cast = unknown, Info = unknown, Args = unknown> {
  /** the first state; throwing (or rejecting) means the start fails */
  init: (args: Args) => MaybePromise<State>;
  handleCall?: (request: Request, from: From, state: State) => MaybePromise<CallResult<State, Reply>>;
  handleCast?: (msg: Cast, state: State) => MaybePromise<State>;
  handleInfo?: (msg: Info, state: State) => MaybePromise<State>;
  /** called when the process ends (shutdown or crash) */
  terminate?: (reason: unknown, state: State) => MaybePromise<void>;
  /**
   * Migrates a state between this version and another, while the process is suspended: up from `oldVsn`
   * (the state is the older version's), or down to `{ down: vsn }` (the state is this version's, the
   * result the older one's). It must not change the state it is given: a failed install puts it back.
   */
  codeChange?(oldVsn: OldVsn, state: unknown, extra: Json): unknown;
}

/** A supervisor's child, as its `init` lists it or `startChild` adds it. */
export interface ChildSpec<Args = unknown> {
  /** unique among the supervisor's children; a code change keeps the children whose id stays */
  id: string;
  /** the child's module: of the same application (`worker`) or qualified (`core/store`) */
  module: string;
  args?: Args;
  /** a registered name, for `call(name, ...)` */
  name?: string;
  /** the modules the child's process runs, for the upgrade plan (suspend, code_change) */
  modules?: string[];
  /** permanent (default): always restarted; transient: unless it exited normally; temporary: never */
  restart?: "permanent" | "transient" | "temporary";
  /** ms to wait for its terminate before it is killed (default 5000), "brutal_kill" or "infinity" */
  shutdown?: number | "brutal_kill" | "infinity";
}

/** What a supervisor's `init` returns. */
export interface SupervisorSpec {
  /** one_for_one (default), one_for_all or rest_for_one */
  strategy?: "one_for_one" | "one_for_all" | "rest_for_one";
  /** more than `intensity` restarts (default 3) within `period` seconds (default 5): the supervisor gives up */
  intensity?: number;
  period?: number;
  children: ChildSpec[];
}

/** `SupervisorSpec` accepts exactly what the supervisor's own schema accepts: a change to one fails to compile until the other follows. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type SupervisorSpecMatchesSchema = Same<SupervisorSpec, SupervisorInitResult> extends true ? true : never;
const specMatchesSchema: SupervisorSpecMatchesSchema = true;
void specMatchesSchema;

/** A supervisor module's callbacks: `init` is read again on a code change (its new children start, gone ones stop). */
export interface Supervisor<Args = unknown> {
  init: (args: Args) => SupervisorSpec;
}

/** An application's `configChange`: the env keys whose value changed, those added, those removed. */
export type ConfigChange<Env = Record<string, Json>> = (changed: Partial<Env>, added: Partial<Env>, removed: string[]) => MaybePromise<void>;

/** An application's start module: `start` returns the pid of its top supervisor (`startSupervisor(...)`). */
export interface Application<Env = Record<string, Json>> {
  start: (env: Env) => MaybePromise<Pid>;
  /** called once its supervision tree has stopped */
  stop?: (env: Env) => MaybePromise<void>;
  /** told of the env keys whose effective value changed in an install */
  configChange?: ConfigChange<Env>;
}

/** Checks a server's callbacks against `Server<State, Request, Reply, ...>`; returns them unchanged. */
export function defineServer<State, Request = unknown, Reply = unknown, Cast = unknown, Info = unknown, Args = unknown>(callbacks: Server<State, Request, Reply, Cast, Info, Args>): Server<State, Request, Reply, Cast, Info, Args> {
  return callbacks;
}

/** Checks a supervisor's callbacks against `Supervisor<Args>`; returns them unchanged. */
export function defineSupervisor<Args = unknown>(callbacks: Supervisor<Args>): Supervisor<Args> {
  return callbacks;
}

/** Checks an application start module's callbacks against `Application<Env>`; returns them unchanged. */
export function defineApplication<Env = Record<string, Json>>(callbacks: Application<Env>): Application<Env> {
  return callbacks;
}
