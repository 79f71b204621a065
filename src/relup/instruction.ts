/**
 * Low-level (relup) instructions: the only language the runtime's executor runs. Names are OTP's;
 * fields are camelCase; modules are fully qualified (`app/module`).
 *
 *   restart_new_emulator  not hot: start a new node on the target release, hand it the listening sockets,
 *                         stop this one. Always the first instruction when present.
 *   load_object_code      read and compile the new code of `modules` of `application` `version`; changes
 *                         nothing. Before the point of no return, so a missing or broken file stops the install
 *                         before any running code changes.
 *   point_of_no_return    from here on the running code changes. A failure after it is still rolled back in
 *                         memory (OTP restarts the node instead). Exactly once per script.
 *   suspend               stop delivering messages to every process using `modules` (callback module or
 *                         declared modules), waiting for in-flight handlers, at most `timeout` ms (a timeout
 *                         aborts and rolls back the install). The timeout is per module as the appup wrote
 *                         it: modules with different timeouts get consecutive suspends. Messages meanwhile
 *                         are queued, never dropped.
 *   load                  make the code read by load_object_code the current version of `module`; the previous
 *                         current version becomes old. `prePurge`: what to do with processes still running an
 *                         earlier old version; `postPurge`: how the old version is purged once the release is
 *                         made permanent.
 *   remove                make the current version of `module` old; it is gone from the release.
 *   purge                 drop the old version of `modules`, so that it can be collected.
 *   code_change           in every process suspended for `module`, run `codeChange(vsn, state, extra)`:
 *                         mode up passes the old vsn, mode down passes `{down: vsn}` of the version returned to.
 *                         Each process's codeChange must settle within the module's `timeout` (default 5 s)
 *                         or the install rolls back.
 *   resume                deliver messages again to the processes suspended for `modules`, queued ones first.
 *   stop                  terminate the supervised processes using `modules`, remembering their place.
 *   start                 restart the processes stopped by `stop`, in the same place of the supervision tree.
 *   sync_nodes            a barrier point (src/runtime/steps/barrier.ts): wait for the install's client to say
 *                         go or abort, at most `timeoutMs`; abort or the timeout fails the install there (rolled
 *                         back in memory). A client that decides nothing (a plain `relup apply`) passes it at once.
 *   apply                 call `module.function(...args)`; module is `app/module`, or `application` for the
 *                         runtime's application controller (start, stop, load, unload, set_env_defaults,
 *                         config_change: src/runtime/steps/apply-step.ts says what each does).
 */
import { z } from "zod";
import { PurgeMethod, SyncNodes, Timeout } from "../appup/instruction.ts";
import { AppName, Json, ModuleName, ModuleRef, Sha256, Version } from "../release/names.ts";

export const RestartNewEmulator = z.object({ op: z.literal("restart_new_emulator") }).strict();
export const LoadObjectCode = z
  .object({ op: z.literal("load_object_code"), application: AppName, version: Version, modules: z.array(ModuleName).min(1) })
  .strict();
export const PointOfNoReturn = z.object({ op: z.literal("point_of_no_return") }).strict();
export const Suspend = z.object({ op: z.literal("suspend"), modules: z.array(ModuleRef).min(1), timeout: Timeout.optional() }).strict();
export const Load = z.object({ op: z.literal("load"), module: ModuleRef, prePurge: PurgeMethod, postPurge: PurgeMethod }).strict();
export const Remove = z.object({ op: z.literal("remove"), module: ModuleRef, prePurge: PurgeMethod, postPurge: PurgeMethod }).strict();
export const Purge = z.object({ op: z.literal("purge"), modules: z.array(ModuleRef).min(1) }).strict();
export const CodeChange = z
  .object({
    op: z.literal("code_change"),
    mode: z.enum(["up", "down"]),
    modules: z
      .array(z.object({ module: ModuleRef, extra: Json, timeout: Timeout.optional().describe("How long each process's codeChange may take; default 5000 ms") }).strict())
      .min(1),
  })
  .strict();
export const Resume = z.object({ op: z.literal("resume"), modules: z.array(ModuleRef).min(1) }).strict();
export const Stop = z.object({ op: z.literal("stop"), modules: z.array(ModuleRef).min(1) }).strict();
export const Start = z.object({ op: z.literal("start"), modules: z.array(ModuleRef).min(1) }).strict();
export const Apply = z
  .object({ op: z.literal("apply"), module: z.string().min(1), function: z.string().min(1), args: z.array(Json) })
  .strict();

export const Instruction = z.discriminatedUnion("op", [
  RestartNewEmulator,
  LoadObjectCode,
  PointOfNoReturn,
  Suspend,
  Load,
  Remove,
  Purge,
  CodeChange,
  Resume,
  Stop,
  Start,
  Apply,
  SyncNodes,
]);
export type Instruction = z.infer<typeof Instruction>;
export type Op = Instruction["op"];

export const ReleaseStamp = z
  .object({ version: Version, identity: Sha256.describe("The release's identity: sha256 of its release.json without the plans it ships (plans/)") })
  .strict();
export type ReleaseStamp = z.infer<typeof ReleaseStamp>;

/** On-disk relup. `up` and `down` drive execution; `notes` are for review only and never do. */
export const RelupFile = z
  .object({
    format: z.literal(1),
    release: AppName,
    from: ReleaseStamp,
    to: ReleaseStamp,
    up: z.array(Instruction),
    down: z.array(Instruction),
    notes: z.array(z.string()).describe("Ordering reasons and warnings, for reviewers; never read by apply"),
  })
  .strict()
  .describe("relup.json: the reviewed upgrade plan between two builds of a release");
export type RelupFile = z.infer<typeof RelupFile>;
