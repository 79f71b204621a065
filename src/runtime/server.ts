/**
 * The `server` behaviour (OTP's gen_server): a process whose callback module handles calls, casts and
 * other messages over a state.
 *
 *   init(args)                        → state (or a promise of it); throwing means the start fails
 *   handleCall(request, from, state)  → { reply, state }, or { noreply: true, state } to answer later with reply(from, value)
 *   handleCast(msg, state)            → new state
 *   handleInfo(msg, state)            → new state (plain messages, EXIT and DOWN notices)
 *   terminate(reason, state)          → called when the process ends (shutdown or crash)
 *   codeChange(oldVsn | {down: vsn}, state, extra) → migrated state; runs only while suspended
 *
 * The callback module is read from the module table for every message, so a load takes effect on the
 * next message. A thrown handler crashes the process (its supervisor decides what comes next).
 */
import type { Json } from "../release/names.ts";
import { CallError, type Behaviour, type Proc } from "./process.ts";
import type { Runtime, SpawnOptions } from "./runtime.ts";

type Fn = (...args: unknown[]) => unknown;

/** One behaviour object per runtime, shared by all its servers (its callbacks hold no per-process state). */
const behaviours = new WeakMap<Runtime, Behaviour>();

export function serverBehaviour(runtime: Runtime): Behaviour {
  let behaviour = behaviours.get(runtime);
  if (behaviour === undefined) behaviours.set(runtime, (behaviour = makeServerBehaviour(runtime)));
  return behaviour;
}

function makeServerBehaviour(runtime: Runtime): Behaviour {
  const callback = (proc: Proc, name: string): Fn | undefined => {
    // The current code, or the old code of a removed module until a purge ends the process (OTP).
    const fn = runtime.table.callbacks(proc.module)[name];
    return typeof fn === "function" ? (fn as Fn) : undefined;
  };
  return {
    kind: "server",
    async handle(proc, message) {
      switch (message.kind) {
        case "call": {
          const handleCall = callback(proc, "handleCall");
          if (!handleCall) {
            message.from.fail(new CallError(`${proc.module} does not export handleCall`, "handler"));
            return;
          }
          const result = (await handleCall(message.request, message.from, proc.state)) as { reply?: unknown; noreply?: boolean; state?: unknown } | undefined;
          if (result === undefined || typeof result !== "object") throw new Error(`${proc.module}.handleCall must return { reply, state } or { noreply: true, state }`);
          if ("state" in result) proc.state = result.state;
          if (!result.noreply) message.from.reply(result.reply);
          return;
        }
        case "cast":
        case "info": {
          const fn = callback(proc, message.kind === "cast" ? "handleCast" : "handleInfo");
          if (fn) proc.state = await fn(message.msg, proc.state);
          return;
        }
      }
    },
    codeChange(proc, vsn, extra: Json) {
      const codeChange = callback(proc, "codeChange");
      if (!codeChange) throw new Error(`${proc.module} does not export codeChange`);
      // A synchronous migration returns synchronously: a fleet of processes migrates without a promise
      // per process. The runtime assigns the result.
      return codeChange(vsn, proc.state, extra);
    },
    async terminate(proc, reason) {
      await callback(proc, "terminate")?.(reason, proc.state);
    },
  };
}

export async function startServer(runtime: Runtime, module: string, args: unknown, options: SpawnOptions = {}): Promise<Proc> {
  return startServerNow(runtime, module, args, options);
}

/** As startServer, but synchronous when the module's init is: a promise only when init returns one. */
export function startServerNow(runtime: Runtime, module: string, args: unknown, options: SpawnOptions = {}): Proc | Promise<Proc> {
  const ns = runtime.table.namespace(module);
  if (typeof ns.init !== "function") throw new Error(`${module} cannot run as a server: it does not export init (is it loaded?)`);
  return runtime.spawnNow(module, serverBehaviour(runtime), () => (runtime.table.namespace(module).init as Fn)(args), options);
}
