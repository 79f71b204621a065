/**
 * The application controller: starts applications in dependency order and stops them in reverse, keeps
 * each application's env (app.json defaults, overridden by the root's config), and watches each
 * application's top process. A permanent application whose top process dies takes the node down, so
 * that the launcher restarts it on the permanent release (OTP: permanent applications).
 *
 * An application's start module (behaviour "application") exports `start(env)`, returning the pid of
 * its top supervisor (or a promise of it), and optionally `stop(env)` and `configChange(changed, added,
 * removed)`. An application without a start module is a library: it is "running" once loaded.
 */
import { startOrder } from "../release/app-graph.ts";
import type { AppFile } from "../release/app-file.ts";
import type { Json } from "../release/names.ts";
import type { Pid } from "./process.ts";
import { describe, type Runtime } from "./runtime.ts";

export type StartType = "permanent" | "transient" | "temporary";
export type AppStatus = "loaded" | "starting" | "running" | "stopping" | "stopped";

interface AppEntry {
  app: AppFile;
  status: AppStatus;
  type: StartType;
  env: Record<string, Json>;
  top: Pid | undefined;
}

/** An application's start failed; the cause (e.g. a listen error with its port) is kept for the boot report. */
export class ApplicationStartError extends Error {
  constructor(
    readonly application: string,
    cause: unknown,
  ) {
    super(`application ${application} failed to start: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export class ApplicationController {
  readonly #apps = new Map<string, AppEntry>();

  constructor(
    readonly runtime: Runtime,
    private readonly options: {
      config?: Record<string, Record<string, Json>>;
      /** a permanent application stopped on its own: the node must stop */
      onPermanentExit?: (app: string, reason: unknown) => void;
      log?: (event: string, fields: Record<string, unknown>) => void;
    } = {},
  ) {
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
    this.#apps.set(app.name, { app, status: "loaded", type: "permanent", env: { ...app.env, ...(this.options.config?.[app.name] ?? {}) }, top: undefined });
  }

  unload(name: string): void {
    const entry = this.#get(name);
    if (entry.status === "running") throw new Error(`application ${name} is running; stop it before unloading`);
    this.#apps.delete(name);
  }

  async start(name: string, type: StartType = "permanent"): Promise<void> {
    const entry = this.#get(name);
    if (entry.status === "running") return;
    for (const dep of entry.app.applications) {
      if (this.#apps.get(dep)?.status !== "running") throw new Error(`application ${name} needs ${dep}, which is not running`);
    }
    entry.status = "starting";
    entry.type = type;
    try {
      if (entry.app.start !== undefined) {
        const start = this.runtime.table.namespace(`${name}/${entry.app.start}`).start;
        if (typeof start !== "function") throw new Error(`${name}/${entry.app.start} does not export start`);
        const top = await start(entry.env);
        entry.top = typeof top === "string" ? top : undefined;
      }
      entry.status = "running";
      this.options.log?.("application started", { application: name, version: entry.app.version });
    } catch (error) {
      entry.status = "stopped";
      throw new ApplicationStartError(name, error);
    }
  }

  async stop(name: string): Promise<void> {
    const entry = this.#get(name);
    if (entry.status !== "running") return;
    entry.status = "stopping";
    const top = entry.top ? this.runtime.get(entry.top) : undefined;
    entry.top = undefined;
    if (top) await this.runtime.exit(top, "shutdown");
    const stop = entry.app.start !== undefined ? this.runtime.table.namespace(`${name}/${entry.app.start}`).stop : undefined;
    if (typeof stop === "function") await stop(entry.env);
    entry.status = "stopped";
    this.options.log?.("application stopped", { application: name });
  }

  async startAll(): Promise<void> {
    for (const name of startOrder([...this.#apps.values()].map((e) => e.app))) await this.start(name);
  }

  async stopAll(): Promise<void> {
    for (const name of startOrder([...this.#apps.values()].map((e) => e.app)).reverse()) await this.stop(name);
  }

  /** Apply env changes and tell the application (its start module's configChange, if exported). */
  async configChange(name: string, changed: Record<string, Json>, added: Record<string, Json>, removed: string[]): Promise<void> {
    const entry = this.#get(name);
    entry.env = { ...entry.env, ...changed, ...added };
    for (const key of removed) delete entry.env[key];
    const fn = entry.app.start !== undefined ? this.runtime.table.namespace(`${name}/${entry.app.start}`).configChange : undefined;
    if (typeof fn === "function") await fn(changed, added, removed);
  }

  /** Put an application's env back as it was (a failed upgrade undoing config_change). */
  restoreEnv(name: string, env: Record<string, Json>): void {
    this.#get(name).env = { ...env };
  }

  appFile(name: string): AppFile | undefined {
    return this.#apps.get(name)?.app;
  }

  getEnv(name: string): Record<string, Json> | undefined {
    return this.#apps.get(name)?.env;
  }

  list(): { name: string; version: string; status: AppStatus; top: Pid | null }[] {
    return [...this.#apps.values()].map((e) => ({ name: e.app.name, version: e.app.version, status: e.status, top: e.top ?? null }));
  }

  #get(name: string): AppEntry {
    const entry = this.#apps.get(name);
    if (!entry) throw new Error(`no application ${JSON.stringify(name)}`);
    return entry;
  }
}
