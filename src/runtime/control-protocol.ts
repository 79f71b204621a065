/**
 * The control socket protocol: newline-delimited JSON, one request per line, one response per request.
 * Every request is validated with zod; a malformed one gets an error response and the node keeps
 * running. No request evaluates code. Besides this socket, the launcher pings the node over its IPC
 * channel (`heartbeat` → `heartbeat-ack`, see launcher.ts) to find a node whose event loop is stuck.
 *
 *   ping        → "pong"
 *   status      → release, node pid, uptime, applications, module versions, processes per module, memory
 *   processes   → every process: pid, name, module, status, queue length
 *   stop        → stops the applications in reverse order, then the node and its launcher
 *   releases    → every release of the root with its status (unpacked, current, permanent, old)
 *   unpack      {source}: a release tarball or directory on the node's machine, read safely into the root
 *   check       {version, plan}: the install preflight, changing nothing
 *   install     {version, plan, codeChangeTimeout?, allowRestart?, permanent?}: run the plan (and make the
 *               release permanent with it); progress lines ({id, progress})
 *               come before the answer. codeChangeTimeout (ms or "infinity") overrides the plan's for every
 *               module; a plan that restarts the node is refused unless allowRestart
 *   permanent   {version}: make the current release the one the node boots
 *   rollback    {codeChangeTimeout?, dryRun?}: back to the previous release, running the plan's other section
 *               hot, as install does (progress lines, the processes purges killed, step timings);
 *               dryRun runs only its preflight (as check), changing nothing
 *   remove      {version}: delete an unpacked or old release
 *   states      {modules}: copies (v8.serialize, base64) of the states of the processes running those modules,
 *               for `relup verify --live`; the processes are not touched
 *   metrics     {reset?, gc?}: longest event-loop delay and heap since the last reset (gc first if the node
 *               runs with --expose-gc), then optionally reset the delay histogram; and, per open control
 *               connection, what the node holds for it (control-server.ts, ConnectionStats)
 *
 * Long requests (unpack, check, install, rollback) may ask for keepalive lines (`keepalive`: ms): while
 * the node works on the request, it writes `{id, keepalive: true}` that often, from its event loop. The
 * client then limits the silence, not the whole request: an install may take as long as the timeouts the
 * user gave allow ("infinity" included), while a node that stops answering is noticed (its launcher's
 * watchdog kills it and the connection closes, or the client gives up after its silence limit).
 */
import { z } from "zod";
import { Timeout } from "../appup/instruction.ts";
import { RelupFile } from "../relup/instruction.ts";
import { ModuleRef, Version } from "../release/names.ts";

export const MAX_REQUEST_BYTES = 1024 * 1024;

const Id = z.union([z.string().max(200), z.number()]).optional();
/** How often (ms) the node writes a keepalive line while it works on a long request. */
const Keepalive = z.number().int().min(10).max(60_000).optional();

export const ControlRequest = z.discriminatedUnion("cmd", [
  z.object({ id: Id, cmd: z.literal("ping") }).strict(),
  z.object({ id: Id, cmd: z.literal("status") }).strict(),
  z.object({ id: Id, cmd: z.literal("processes") }).strict(),
  z.object({ id: Id, cmd: z.literal("stop") }).strict(),
  z.object({ id: Id, cmd: z.literal("releases") }).strict(),
  z.object({ id: Id, cmd: z.literal("unpack"), source: z.string().min(1).max(4096), keepalive: Keepalive }).strict(),
  z.object({ id: Id, cmd: z.literal("check"), version: Version, plan: RelupFile, keepalive: Keepalive }).strict(),
  z
    .object({
      id: Id,
      cmd: z.literal("install"),
      version: Version,
      plan: RelupFile,
      /** how long each process's codeChange may take in this install, overriding the plan's timeouts */
      codeChangeTimeout: Timeout.optional(),
      /** a plan that restarts the node (restart_new_emulator) is refused without it */
      allowRestart: z.boolean().optional(),
      /** make the release permanent as part of the install: complete, or nothing changed */
      permanent: z.boolean().optional(),
      keepalive: Keepalive,
    })
    .strict(),
  z.object({ id: Id, cmd: z.literal("permanent"), version: Version }).strict(),
  z
    .object({
      id: Id,
      cmd: z.literal("rollback"),
      /** how long each process's codeChange may take in this rollback, overriding the plan's timeouts */
      codeChangeTimeout: Timeout.optional(),
      /** only the preflight: what the rollback would run and kill, changing nothing */
      dryRun: z.boolean().optional(),
      keepalive: Keepalive,
    })
    .strict(),
  z.object({ id: Id, cmd: z.literal("remove"), version: Version }).strict(),
  z.object({ id: Id, cmd: z.literal("states"), modules: z.array(ModuleRef).min(1).max(10_000) }).strict(),
  z.object({ id: Id, cmd: z.literal("metrics"), reset: z.boolean().optional(), gc: z.boolean().optional() }).strict(),
]);
export type ControlRequest = z.infer<typeof ControlRequest>;

export type ControlResponse =
  | { id?: string | number; ok: true; result: unknown }
  | { id?: string | number; ok: false; error: { code: string; message: string; exitCode?: number } };

/** A line sent before the answer of a long request. */
export interface ControlProgress {
  id?: string | number;
  progress: unknown;
}

/** A line the node writes while it works on a long request that asked for them (see `keepalive`). */
export interface ControlKeepalive {
  id?: string | number;
  keepalive: true;
}

export const CONTROL_SOCKET = "control.sock";
