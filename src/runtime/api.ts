/**
 * `relup/runtime`: what code inside a release gets from `import ... from "relup/runtime"`. Each module
 * gets its own copy, bound to its application, so module names may be given without the application
 * (`"sup"` in `calculator` means `calculator/sup`).
 */
import { z } from "zod";
import type { Json } from "../release/names.ts";
import type { ApplicationController } from "./application-controller.ts";
import { qualifyModule } from "./module-table.ts";
import { formatPid, type From, type Pid, type ProcId } from "./process.ts";
import type { Runtime } from "./runtime.ts";
import { defineApplication, defineServer, defineSupervisor } from "./behaviours.ts";
import { startServer } from "./server.ts";
import { startSupervisor } from "./supervisor.ts";

export interface RuntimeApi {
  /** start a `server` process running `module`; linked to the caller when called from a process */
  startServer(module: string, args?: unknown, options?: { name?: string; modules?: string[] }): Promise<Pid>;
  /** start a `supervisor` process running `module` */
  startSupervisor(module: string, args?: unknown, options?: { name?: string; modules?: string[] }): Promise<Pid>;
  /** send a request and wait for the reply (default timeout 5000 ms, at most 2147483647) */
  call<T = unknown>(target: Pid | string, request: unknown, timeout?: number): Promise<T>;
  cast(target: Pid | string, msg: unknown): void;
  send(target: Pid | string, msg: unknown): void;
  /** answer a call later, after handleCall returned { noreply: true, state } */
  reply(from: From, value: unknown): void;
  self(): Pid | undefined;
  whereis(name: string): Pid | undefined;
  link(pid: Pid): void;
  monitor(target: Pid | string): number;
  exit(target: Pid | string, reason?: unknown): Promise<void>;
  /** the env of this module's application (or another's) */
  getEnv<T = Json>(key?: string, application?: string): T;
  startChild(supervisor: Pid | string, spec: { id: string; module: string; args?: unknown; name?: string; modules?: string[]; restart?: "permanent" | "transient" | "temporary" }): Promise<Pid>;
  terminateChild(supervisor: Pid | string, id: string): Promise<void>;
  whichChildren(supervisor: Pid | string): Promise<{ id: string; pid: Pid | null; module: string; modules: string[] }[]>;
  /** zod 4, for a server's `stateSchema` (checked by `relup verify`) */
  z: typeof z;
  /** type checks for a module's callbacks (behaviours.ts); each returns its argument */
  defineServer: typeof defineServer;
  defineSupervisor: typeof defineSupervisor;
  defineApplication: typeof defineApplication;
}

export function createRuntimeApi(runtime: Runtime, controller: ApplicationController, module: string): RuntimeApi {
  const app = module.slice(0, module.indexOf("/"));
  // Pids are numbers inside the runtime; user code gets and gives them printed (`<0.12.0>`).
  const printed = (id: ProcId | undefined): Pid | undefined => (id === undefined ? undefined : formatPid(id));
  const qualify = (m: string) => qualifyModule(module, m);
  const linkToCaller = (options: { name?: string; modules?: string[] } = {}) => {
    const self = runtime.self();
    return { ...options, modules: (options.modules ?? []).map(qualify), ...(self !== undefined ? { link: self } : {}) };
  };
  return {
    startServer: async (m, args, options) => (await startServer(runtime, qualify(m), args, linkToCaller(options))).pid,
    startSupervisor: async (m, args, options) => (await startSupervisor(runtime, qualify(m), args, linkToCaller(options))).pid,
    call: (target, request, timeout) => runtime.call(target, request, timeout) as Promise<never>,
    cast: (target, msg) => runtime.cast(target, msg),
    send: (target, msg) => runtime.send(target, msg),
    reply: (from, value) => from.reply(value),
    self: () => printed(runtime.self()),
    whereis: (name) => printed(runtime.whereis(name)),
    link: (pid) => {
      const self = runtime.self();
      const other = runtime.get(pid);
      if (self !== undefined && other) runtime.link(self, other.id);
    },
    monitor: (target) => {
      const self = runtime.self();
      if (self === undefined) throw new Error("monitor must be called from inside a process");
      return runtime.monitor(self, target);
    },
    exit: async (target, reason = "shutdown") => {
      const proc = runtime.get(target);
      if (proc) await runtime.exit(proc, reason);
    },
    getEnv: <T,>(key?: string, application = app) => {
      const env = controller.getEnv(application) ?? {};
      return (key === undefined ? env : env[key]) as T;
    },
    startChild: (sup, spec) => runtime.call(sup, { op: "start_child", spec }) as Promise<Pid>,
    terminateChild: async (sup, id) => void (await runtime.call(sup, { op: "terminate_child", id })),
    whichChildren: (sup) => runtime.call(sup, { op: "which_children" }) as Promise<never>,
    z,
    defineServer,
    defineSupervisor,
    defineApplication,
  };
}
