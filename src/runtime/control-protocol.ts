/**
 * The control socket protocol: newline-delimited JSON, one request per line, one response per request.
 * Every request is validated with zod; a malformed one gets an error response and the node keeps
 * running. No request evaluates code.
 *
 *   ping        → "pong"
 *   status      → release, node pid, uptime, applications, module versions, processes per module, memory
 *   processes   → every process: pid, name, module, status, queue length
 *   stop        → stops the applications in reverse order, then the node and its launcher
 */
import { z } from "zod";

export const MAX_REQUEST_BYTES = 1024 * 1024;

const Id = z.union([z.string().max(200), z.number()]).optional();

export const ControlRequest = z.discriminatedUnion("cmd", [
  z.object({ id: Id, cmd: z.literal("ping") }).strict(),
  z.object({ id: Id, cmd: z.literal("status") }).strict(),
  z.object({ id: Id, cmd: z.literal("processes") }).strict(),
  z.object({ id: Id, cmd: z.literal("stop") }).strict(),
]);
export type ControlRequest = z.infer<typeof ControlRequest>;

export type ControlResponse =
  | { id?: string | number; ok: true; result: unknown }
  | { id?: string | number; ok: false; error: { code: string; message: string } };

export const CONTROL_SOCKET = "control.sock";
