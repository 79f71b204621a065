/**
 * High-level (appup) instructions: how one application goes up from, or down to, another version.
 * src/relup/translate.ts turns them into the low-level instructions that the runtime executes.
 * Names are OTP's, so the appup cookbook applies; fields are camelCase. Modules are named inside
 * their application (`calculator`, `http/router`).
 *
 *   load_module          reload a module with no process state to migrate (pure functions): load its new code
 *   update               reload a module used by processes: suspend them, load, migrate state, resume.
 *                        change "soft": no state migration; {advanced: extra}: `codeChange(oldVsn, state, extra)`
 *                        runs in each process; "supervisor": the supervisor re-reads its child specs.
 *                        timeout: how long each process may take to suspend; codeChangeTimeout: how long
 *                        each process's codeChange may take. Both are per module, in ms or "infinity".
 *   add_module           load a module that is new in this version
 *   delete_module        remove a module that is gone in this version; postPurge "soft_purge" refuses the
 *                        install while a process still runs it, "brutal_purge" (default) kills such processes
 *   apply                call `module.function(...args)`; module is `app/module`, or `application` for the
 *                        runtime's application controller
 *   add_application      load every module of a new application and start it
 *   remove_application   stop an application, remove its modules
 *   restart_application  stop an application, replace all its modules, start it again
 *   restart_new_emulator not a hot upgrade: start a new node on the target release and hand it the sockets
 *   point_of_no_return   hand-written appups only: `apply` instructions before it run before any code changes
 *                        (a failing check there stops the install with nothing changed)
 *   sync_nodes           hand-written appups only: a barrier point where the author puts it (before or after
 *                        point_of_no_return). In a fleet rollout every node of the wave waits there until all
 *                        have reached it (go) or one failed or `timeoutMs` passed (abort: the install rolls
 *                        back in memory); a plain `relup apply` passes it at once. `id` names it to the fleet.
 *
 * dependsOn lists modules (of this release, `app/module` or a module of the same application) whose
 * instructions must come first on the way up and last on the way down.
 */
import { z } from "zod";
import { AppName, Json, ModuleName, Version } from "../release/names.ts";

/** What to do with processes still running the module's previous old code: refuse (soft) or kill (brutal). */
export const PurgeMethod = z.enum(["soft_purge", "brutal_purge"]);
export type PurgeMethod = z.infer<typeof PurgeMethod>;

/**
 * The longest timer Node.js keeps: 2^31−1 ms, about 24.8 days. A setTimeout above it fires after 1 ms,
 * so a larger timeout would expire at once; "infinity" is the way to say no limit.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** `value` ms, above MAX_TIMEOUT_MS, in words (with the way out). */
export function tooLongTimeout(value: unknown): string {
  return `${String(value)} ms is above the longest timer Node.js keeps (${MAX_TIMEOUT_MS} ms, about 24.8 days); for no limit, write "infinity"`;
}

/** Milliseconds (a suspend, a code change), at most MAX_TIMEOUT_MS, or "infinity". */
export const Timeout = z.union([z.number().int().positive().max(MAX_TIMEOUT_MS, { error: (issue) => tooLongTimeout(issue.input) }), z.literal("infinity")], {
  error: (issue) => `must be a whole number of milliseconds (1 to ${MAX_TIMEOUT_MS}) or "infinity", not ${JSON.stringify(issue.input)}`,
});
export type Timeout = z.infer<typeof Timeout>;

/** A module of this release: `app/module`, or a module of the same application by its name. */
const DependsOn = z.array(z.string().min(1)).optional();

export const Change = z.union([z.literal("soft"), z.literal("supervisor"), z.object({ advanced: Json }).strict()]);
export type Change = z.infer<typeof Change>;

const purge = { prePurge: PurgeMethod.optional(), postPurge: PurgeMethod.optional() };

export const LoadModule = z.object({ op: z.literal("load_module"), module: ModuleName, dependsOn: DependsOn, ...purge }).strict();
export const Update = z
  .object({
    op: z.literal("update"),
    module: ModuleName,
    change: Change.optional(),
    modType: z.enum(["static", "dynamic"]).optional(),
    timeout: Timeout.optional().describe("How long each process using the module may take to suspend (its handler in flight to finish); default 5000 ms"),
    codeChangeTimeout: Timeout.optional().describe("How long each process's codeChange may take to settle; default 5000 ms. On expiry the install rolls back"),
    dependsOn: DependsOn,
    ...purge,
  })
  .strict();
export const AddModule = z.object({ op: z.literal("add_module"), module: ModuleName, dependsOn: DependsOn }).strict();
/** Its purge methods say what happens to processes still running it: killed (brutal, default) or the install refused (soft). */
export const DeleteModule = z.object({ op: z.literal("delete_module"), module: ModuleName, dependsOn: DependsOn, ...purge }).strict();
export const Apply = z
  .object({ op: z.literal("apply"), module: z.string().min(1), function: z.string().min(1), args: z.array(Json) })
  .strict();
export const StartType = z.enum(["permanent", "transient", "temporary", "load", "none"]);
export const AddApplication = z.object({ op: z.literal("add_application"), application: AppName, type: StartType.optional() }).strict();
export const RemoveApplication = z.object({ op: z.literal("remove_application"), application: AppName }).strict();
export const RestartApplication = z.object({ op: z.literal("restart_application"), application: AppName }).strict();
export const RestartNewEmulator = z.object({ op: z.literal("restart_new_emulator") }).strict();
export const PointOfNoReturn = z.object({ op: z.literal("point_of_no_return") }).strict();
/** A barrier point's name: letters, digits, `.`, `_`, `-`; `point_of_no_return` is the hold's own. */
export const BarrierId = z
  .string()
  .max(200)
  .regex(/^(?!point_of_no_return$)[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: (issue) => `must be a name of letters, digits, ".", "_" and "-" (and not point_of_no_return, the hold's own point), not ${JSON.stringify(issue.input)}` })
  .describe("The barrier's name, as the fleet reports it");
export const SyncNodes = z
  .object({
    op: z.literal("sync_nodes"),
    id: BarrierId,
    timeoutMs: z.number().int().positive().max(MAX_TIMEOUT_MS, { error: (issue) => tooLongTimeout(issue.input) }).describe("How long the node waits for the barrier's decision before it aborts the install by itself (ms)"),
  })
  .strict();

export const AppupInstruction = z.discriminatedUnion("op", [
  LoadModule,
  Update,
  AddModule,
  DeleteModule,
  Apply,
  AddApplication,
  RemoveApplication,
  RestartApplication,
  RestartNewEmulator,
  PointOfNoReturn,
  SyncNodes,
]);
export type AppupInstruction = z.infer<typeof AppupInstruction>;

/** A version or a semver range (`1.0.0`, `1.x`, `>=1.0.0 <1.2.0`); the first entry that matches wins, as in OTP. */
export const VersionSpec = z.string().min(1).describe("A version or a semver range");

export const AppupFile = z
  .object({
    $schema: z.string().optional(),
    format: z.literal(1),
    application: AppName,
    version: Version.describe("The application version this appup belongs to; must equal app.json"),
    up: z.array(z.object({ from: VersionSpec, instructions: z.array(AppupInstruction) }).strict()),
    down: z.array(z.object({ to: VersionSpec, instructions: z.array(AppupInstruction) }).strict()),
  })
  .strict()
  .describe("appup.json: how one application goes up from and down to earlier versions");
export type AppupFile = z.infer<typeof AppupFile>;

export const APPUP_FILE = "appup.json";
