/**
 * The application controller: starts applications in dependency order and stops them in reverse, keeps
 * each application's app file and env, and watches each application's top process. A permanent
 * application whose top process dies takes the node down, so that the launcher restarts it on the
 * permanent release (OTP: permanent applications).
 *
 * An application's start module (behaviour "application") exports `start(env)`, returning the pid of
 * its top supervisor (or a promise of it), and optionally `stop(env)` and `configChange(changed, added,
 * removed)`. An application without a start module is a library: it is "running" once loaded.
 *
 * Env, as OTP's: the app file's defaults under the operator's overrides (the root's config.json, OTP's
 * sys.config); an override always wins. An install changes the defaults (set_env_defaults, or the
 * target release's app file when the install commits) and may read new overrides; the env is computed
 * again from both. `configChange` tells a running application of the keys whose EFFECTIVE value changed
 * since it was started or last told: an overridden key whose default changed did not change.
 *
 * Every change an install makes to an application's spec (app file, env defaults, env) can be undone
 * from a snapshot (`snapshot` / `restore`). A snapshot holds the spec only: whether the application
 * runs, its top process, its start type and what it was told are live facts, which the steps that
 * changed them (start, stop, configChange) undo themselves. Restoring them from a snapshot would bring
 * back a top process that is gone and leave the one that runs unwatched.
 *
 * Timeouts: `start`, `stop` and `tell` take an optional timeout for the start module's callback (an
 * install passes one; see steps/apply-step.ts). A start that does not settle in time fails with the
 * application stopped, and a top process it returns later is stopped as it arrives; the next start of the
 * application first waits for that, up to its own timeout, so that the two do not claim the same names or
 * ports. A stop or configChange that does not settle in time fails, and what it does later is ignored.
 */
import { startOrder } from "../release/app-graph.ts";
import type { AppFile } from "../release/app-file.ts";
import type { Json } from "../release/names.ts";
import type { Pid } from "./process.ts";
import type { RootConfig } from "./root-config.ts";
import { describe } from "./exit-reason.ts";
import type { Runtime, Timeout } from "./runtime.ts";
import { CallbackTimeout, settleWithin } from "./settle-within.ts";
import { exitWithin } from "./bounded-wait.ts";

export type StartType = "permanent" | "transient" | "temporary";
export type AppStatus = "loaded" | "starting" | "running" | "stopping" | "stopped";
export type Env = Record<string, Json>;

/** What changed between two envs, as `configChange` receives it. */
export interface EnvChange {
  changed: Env;
  added: Env;
  removed: string[];
}

interface AppEntry {
  /** the app file: version, start module, dependencies, env defaults */
  app: AppFile;
  /** the env defaults: the app file's, or as set_env_defaults changed them during an install */
  defaults: Env;
  /** the effective env: `defaults` under the root config's overrides */
  env: Env;
  /** the env the running application was started with or last told of; configChange reports changes from it */
  told: Env | undefined;
  /** the start module the running application was started with: its `stop` is the one called */
  startedWith: string | undefined;
  status: AppStatus;
  type: StartType;
  top: Pid | undefined;
}

/** An application's spec as it was (app file, env defaults, env), or its absence, to put back on rollback. */
export type AppSnapshot = { name: string; spec: Pick<AppEntry, "app" | "defaults" | "env"> | undefined };

/** An application's start failed; the cause (e.g. a listen error with its port) is kept for the boot report. */
export class ApplicationStartError extends Error {
  constructor(
    readonly application: string,
    cause: unknown,
  ) {
    super(`application ${application} failed to start: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** How long an application's start may take by default (boot, or an install's start step): as a boot may. */
export const DEFAULT_START_TIMEOUT = 60_000;
/** How long a stop waits for an application's top process (its supervision tree) to end before killing it. */
export const DEFAULT_STOP_TIMEOUT = 30_000;

export class ApplicationController {
  readonly #apps = new Map<string, AppEntry>();
  /** how long an application's start may take when `start` is given no timeout (the node's boot timeout) */
  startTimeout: Timeout = DEFAULT_START_TIMEOUT;
  /** ms a stop waits for the top process to exit before it kills it (exit reason killed) */
  stopTimeout: number = DEFAULT_STOP_TIMEOUT;
  #config: RootConfig;
  /** application → a start of it that timed out and has not settled: settles once it has and its top is stopped */
  readonly #lateStarts = new Map<string, Promise<void>>();

  constructor(
    readonly runtime: Runtime,
    private readonly options: {
      /** the root's config.json: env overrides by application */
      config?: RootConfig;
      /** a permanent application stopped on its own: the node must stop */
      onPermanentExit?: (app: string, reason: unknown) => void;
      log?: (event: string, fields: Record<string, unknown>) => void;
    } = {},
  ) {
    this.#config = options.config ?? {};
    const previous = runtime.onExit;
    runtime.onExit = (proc, reason) => {
      previous(proc, reason);
      for (const entry of this.#apps.values()) {
        if (entry.top !== proc.pid || entry.status !== "running") continue;
        entry.top = undefined;
        entry.status = "stopped";
        this.options.log?.("application exited", { application: entry.app.name, reason: describe(reason) });
        if (entry.type === "permanent" || (entry.type === "transient" && reason !== "normal" && reason !== "shutdown")) {
          this.options.onPermanentExit?.(entry.app.name, reason);
        }
      }
    };
  }

  load(app: AppFile): void {
    if (this.#apps.has(app.name) && this.#apps.get(app.name)!.status !== "stopped") throw new Error(`application ${app.name} is already loaded`);
    const entry: AppEntry = { app, defaults: { ...app.env }, env: {}, told: undefined, startedWith: undefined, status: "loaded", type: "permanent", top: undefined };
    this.#apps.set(app.name, entry);
    this.#computeEnv(entry);
  }

  unload(name: string): void {
    const entry = this.#get(name);
    if (entry.status === "running") throw new Error(`application ${name} is running; stop it before unloading`);
    this.#apps.delete(name);
  }

  async start(name: string, type: StartType = "permanent", options: { timeout?: Timeout } = {}): Promise<void> {
    const entry = this.#get(name);
    if (entry.status === "running") return;
    for (const dep of entry.app.applications) {
      if (this.#apps.get(dep)?.status !== "running") throw new Error(`application ${name} needs ${dep}, which is not running`);
    }
    entry.status = "starting";
    entry.type = type;
    entry.top = undefined;
    const timeout = options.timeout ?? this.startTimeout;
    let earlierRuns = false;
    try {
      earlierRuns = await this.#awaitLateStart(name, timeout);
      if (entry.app.start !== undefined) {
        const start = this.runtime.table.namespace(`${name}/${entry.app.start}`).start;
        if (typeof start !== "function") throw new Error(`${name}/${entry.app.start} does not export start`);
        let settled!: () => void;
        const late = new Promise<void>((resolve) => (settled = resolve));
        const top = await settleWithin(
          start(entry.env) as unknown,
          timeout,
          (ms) => {
            // Kept until it settles: the next start of this application waits for it (#awaitLateStart).
            this.#lateStarts.set(name, late);
            void late.then(() => this.#lateStarts.get(name) === late && this.#lateStarts.delete(name));
            return new CallbackTimeout(`application ${name} did not start (${name}/${entry.app.start}.start did not settle)`, ms, `make start resolve once the top supervisor runs, or give the node a longer start timeout (\`relup start --boot-timeout <ms>\`)`);
          },
          (outcome) => void this.#lateStart(name, outcome).finally(settled),
        );
        entry.top = typeof top === "string" ? top : undefined;
      }
      entry.startedWith = entry.app.start;
      entry.told = { ...entry.env };
      entry.status = "running";
      this.options.log?.("application started", { application: name, version: entry.app.version });
    } catch (error) {
      entry.status = "stopped";
      throw new ApplicationStartError(name, earlierRuns ? new Error(`${(error as Error)?.message ?? String(error)} (an earlier start of ${name} that timed out still runs)`) : error);
    }
  }

  async stop(name: string, options: { timeout?: Timeout } = {}): Promise<void> {
    const entry = this.#get(name);
    if (entry.status !== "running") return;
    entry.status = "stopping";
    const top = entry.top ? this.runtime.get(entry.top) : undefined;
    entry.top = undefined;
    // Its tree stops within stopTimeout, or the top process is killed (its terminate, or a child's, hangs).
    if (top && (await exitWithin(this.runtime, top, "shutdown", this.stopTimeout)) === "killed") {
      this.options.log?.("application top process killed: it did not stop in time", { application: name, pid: top.pid, timeoutMs: this.stopTimeout });
    }
    // The start module it was started with, which an install may have replaced in its app file since.
    const stop = entry.startedWith !== undefined ? this.runtime.table.namespace(`${name}/${entry.startedWith}`).stop : undefined;
    try {
      if (typeof stop === "function") {
        const callback = `${name}/${entry.startedWith}.stop`;
        await settleWithin(stop(entry.env) as unknown, options.timeout ?? "infinity", (ms) => new CallbackTimeout(`${callback} did not settle`, ms, `make ${callback} settle sooner, or give the install a longer timeout (\`relup apply --code-change-timeout <ms>\`)`));
      }
    } finally {
      // Its top process is gone: it is stopped, whatever its stop callback did.
      entry.status = "stopped";
      entry.told = undefined;
      entry.startedWith = undefined;
    }
    this.options.log?.("application stopped", { application: name });
  }

  /** A start that timed out settled after all: a top process it returned is stopped, unless the application runs on it. */
  async #lateStart(name: string, outcome: { ok: true; value: unknown } | { ok: false; error: unknown }): Promise<void> {
    const top = outcome.ok && typeof outcome.value === "string" ? this.runtime.get(outcome.value) : undefined;
    this.options.log?.("application start settled after its timeout: ignored", { application: name, ...(outcome.ok ? {} : { error: describe(outcome.error) }), ...(top ? { stopped: top.pid } : {}) });
    if (top && this.#apps.get(name)?.top !== top.pid) await this.runtime.exit(top, "shutdown").catch(() => undefined);
  }

  /**
   * Before a start: an earlier start of the application that timed out may still be running, holding the
   * names and ports its processes registered. Wait for it to settle (at most `timeout`) and for its top
   * process to stop; one that does not settle in time is logged, and the start goes ahead (it fails if the
   * late one holds what it needs, and says why). True if it still runs.
   */
  async #awaitLateStart(name: string, timeout: Timeout): Promise<boolean> {
    const late = this.#lateStarts.get(name);
    if (!late) return false;
    this.options.log?.("application start waits for an earlier start that timed out", { application: name });
    try {
      await settleWithin(late, timeout, (ms) => new Error(`it did not settle within ${ms} ms`));
      return false;
    } catch (error) {
      this.options.log?.("application start goes ahead: an earlier start that timed out still runs", { application: name, error: describe(error) });
      return true;
    }
  }

  /**
   * A permanent application that an install stopped could not be started again by its rollback: as when a
   * permanent application exits, the node must stop, and the launcher restarts it on the permanent release
   * (OTP's node would restart there too). Other start types are only reported.
   */
  restartFailed(name: string, reason: unknown): void {
    if (this.#apps.get(name)?.type === "permanent" && this.#apps.get(name)?.status !== "running") this.options.onPermanentExit?.(name, reason);
  }

  async startAll(): Promise<void> {
    for (const name of startOrder([...this.#apps.values()].map((e) => e.app))) await this.start(name);
  }

  async stopAll(): Promise<void> {
    for (const name of startOrder([...this.#apps.values()].map((e) => e.app)).reverse()) await this.stop(name);
  }

  /** From now on the overrides are these (an install read config.json again); every env is computed again. */
  useConfig(config: RootConfig): void {
    this.#config = config;
    for (const entry of this.#apps.values()) this.#computeEnv(entry);
  }

  get config(): RootConfig {
    return this.#config;
  }

  /** Change an application's env defaults; keys the root config overrides keep their value. */
  setEnvDefaults(name: string, change: EnvChange): void {
    const entry = this.#get(name);
    const defaults = { ...entry.defaults, ...change.changed, ...change.added };
    for (const key of change.removed) delete defaults[key];
    entry.defaults = defaults;
    this.#computeEnv(entry);
  }

  /**
   * The application's app file becomes `app` (OTP's change_application_data): its version, start module,
   * dependencies and env defaults. A running application keeps running; its next start uses them.
   */
  changeApplicationData(app: AppFile): void {
    const entry = this.#get(app.name);
    entry.app = app;
    entry.defaults = { ...app.env };
    this.#computeEnv(entry);
  }

  /**
   * Tell a running application (its start module's `configChange`, if exported) of the keys whose
   * effective value changed since it was started or last told. Returns what it was told, or undefined
   * when nothing changed or it is not running.
   */
  configChange(name: string, options: { timeout?: Timeout } = {}): Promise<EnvChange | undefined> {
    return this.tell(name, this.#get(name).env, options);
  }

  /** Tell a running application that its env is now `env` (configChange with the difference). */
  async tell(name: string, env: Env, options: { timeout?: Timeout } = {}): Promise<EnvChange | undefined> {
    const entry = this.#get(name);
    if (entry.status !== "running" || entry.told === undefined) return undefined;
    const change = envChange(entry.told, env);
    if (Object.keys(change.changed).length + Object.keys(change.added).length + change.removed.length === 0) return undefined;
    const fn = entry.startedWith !== undefined ? this.runtime.table.namespace(`${name}/${entry.startedWith}`).configChange : undefined;
    if (typeof fn === "function") {
      const fix = `make configChange settle sooner, or give the install a longer timeout (\`relup apply --code-change-timeout <ms>\`)`;
      await settleWithin(fn(change.changed, change.added, change.removed) as unknown, options.timeout ?? "infinity", (ms) => new CallbackTimeout(`configChange of ${name} did not settle`, ms, fix));
    }
    entry.told = { ...env };
    return change;
  }

  /** The env the running application was last told of (undefined when it is not running). */
  told(name: string): Env | undefined {
    return this.#apps.get(name)?.told;
  }

  /** The start type the application runs with, or last ran with (undefined when it is not loaded). */
  startType(name: string): StartType | undefined {
    return this.#apps.get(name)?.type;
  }

  snapshot(name: string): AppSnapshot {
    const entry = this.#apps.get(name);
    return { name, spec: entry ? { app: entry.app, defaults: { ...entry.defaults }, env: { ...entry.env } } : undefined };
  }

  /**
   * Put an application's spec (app file, env defaults, env) back as a snapshot held it. A loaded
   * application keeps its live fields (status, top process, start type, what it was told); one that was
   * unloaded since comes back loaded, not running.
   */
  restore(snapshot: AppSnapshot): void {
    if (!snapshot.spec) {
      this.#apps.delete(snapshot.name);
      return;
    }
    const entry = this.#apps.get(snapshot.name);
    if (entry) Object.assign(entry, snapshot.spec);
    else this.#apps.set(snapshot.name, { ...snapshot.spec, told: undefined, startedWith: undefined, status: "loaded", type: "permanent", top: undefined });
  }

  appFile(name: string): AppFile | undefined {
    return this.#apps.get(name)?.app;
  }

  getEnv(name: string): Env | undefined {
    return this.#apps.get(name)?.env;
  }

  list(): { name: string; version: string; status: AppStatus; top: Pid | null }[] {
    return [...this.#apps.values()].map((e) => ({ name: e.app.name, version: e.app.version, status: e.status, top: e.top ?? null }));
  }

  #computeEnv(entry: AppEntry): void {
    entry.env = { ...entry.defaults, ...(this.#config[entry.app.name] ?? {}) };
  }

  #get(name: string): AppEntry {
    const entry = this.#apps.get(name);
    if (!entry) throw new Error(`no application ${JSON.stringify(name)}`);
    return entry;
  }
}

/** The keys whose value differs between two envs (compared as JSON), as configChange receives them. */
export function envChange(before: Env, after: Env): EnvChange {
  const same = (a: Json | undefined, b: Json | undefined) => JSON.stringify(a) === JSON.stringify(b);
  return {
    changed: Object.fromEntries(Object.entries(after).filter(([k, v]) => k in before && !same(before[k], v))),
    added: Object.fromEntries(Object.entries(after).filter(([k]) => !(k in before))),
    removed: Object.keys(before).filter((k) => !(k in after)).sort(),
  };
}
