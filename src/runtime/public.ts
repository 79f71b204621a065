/**
 * Types and stand-ins for `relup/runtime` outside a node. Inside a running release, `relup/runtime`
 * resolves to the node's own API (api.ts); these functions exist so that TypeScript projects can import
 * and type-check against it, and they fail clearly when called anywhere else.
 */
import type { RuntimeApi } from "./api.ts";

/** zod 4 itself (not a stand-in): a server module describes its state with it as `stateSchema`. */
export { z } from "zod";

export type { RuntimeApi } from "./api.ts";
export type { Pid, From } from "./process.ts";
export type { Json } from "../release/names.ts";

/** The behaviours' callbacks as types, and the functions that check a module's callbacks against them. */
export { defineServer, defineSupervisor, defineApplication } from "./behaviours.ts";
export type { Server, Supervisor, SupervisorSpec, ChildSpec, Application, ConfigChange, CallResult, OldVsn, Vsn } from "./behaviours.ts";

function outside(name: string): never {
  throw new Error(`relup/runtime.${name} works only inside a release run by a relup node (relup start)`);
}

export const startServer: RuntimeApi["startServer"] = () => outside("startServer");
export const startSupervisor: RuntimeApi["startSupervisor"] = () => outside("startSupervisor");
export const call: RuntimeApi["call"] = () => outside("call");
export const cast: RuntimeApi["cast"] = () => outside("cast");
export const send: RuntimeApi["send"] = () => outside("send");
export const reply: RuntimeApi["reply"] = () => outside("reply");
export const self: RuntimeApi["self"] = () => outside("self");
export const whereis: RuntimeApi["whereis"] = () => outside("whereis");
export const link: RuntimeApi["link"] = () => outside("link");
export const monitor: RuntimeApi["monitor"] = () => outside("monitor");
export const exit: RuntimeApi["exit"] = () => outside("exit");
export const getEnv: RuntimeApi["getEnv"] = () => outside("getEnv");
export const startChild: RuntimeApi["startChild"] = () => outside("startChild");
export const terminateChild: RuntimeApi["terminateChild"] = () => outside("terminateChild");
export const whichChildren: RuntimeApi["whichChildren"] = () => outside("whichChildren");
