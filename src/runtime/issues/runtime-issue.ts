/**
 * What the runtime finds, as data: what the node refuses (a stale plan, a release it does not hold, a
 * disk that cannot take its records), how an install failed (the step, the module, the process, and
 * whether it was before or after the point of no return), and what the control client meets (no node,
 * a node lost). The node answers a request it refuses with `{ ok: false, issue }`; the client parses the
 * issue with this schema (the node is another process: its answers are input) and throws a RuntimeError.
 * `formatRuntimeIssue` is the one place that turns an issue into text; only the CLI entry chooses the
 * exit code of a kind (src/cli/exit-code.ts).
 */
import { z } from "zod";
import { PlanIssueSchema, ReleaseIssueSchema, RootTrustIssueSchema } from "./foreign-issue-schemas.ts";

const s = z.string();
const ProcessRef = z.object({ pid: s, name: s.nullable(), module: s });
/** Which of the root's files could not be written, and why. */
const WriteFailure = z.union([z.object({ file: s, diskFull: z.boolean(), errno: s }), z.object({ detail: s })]);

export const RuntimeIssue = z.discriminatedUnion("kind", [
  // The release handler refuses (nothing changed).
  /** a tarball (`source`) or a plan of another release than the node runs */
  z.object({ kind: z.literal("wrong-release"), release: s, running: s, source: s.optional() }),
  /** the version is unpacked already, from another build */
  z.object({ kind: z.literal("existing-release"), release: s, version: s, existing: s, unpacking: s }),
  z.object({ kind: z.literal("no-such-release"), release: s, version: s, root: s, operation: z.enum(["install", "remove"]) }),
  /** the plan is not for the running release and the target: other versions, or other builds of them */
  z.object({
    kind: z.literal("stale-plan"),
    plan: z.object({ from: s, to: s }),
    running: s,
    target: s,
    mismatch: z.discriminatedUnion("what", [z.object({ what: z.literal("versions") }), z.object({ what: z.literal("running-build"), planned: s, found: s }), z.object({ what: z.literal("target-build"), planned: s, found: s })]),
  }),
  /** the plan checker rejects the script */
  z.object({ kind: z.literal("bad-plan"), issues: z.array(PlanIssueSchema) }),
  /** the plan does not do what the releases it names need (it was edited, or made for other releases) */
  z.object({ kind: z.literal("plan-meaning"), issues: z.array(PlanIssueSchema), from: s, to: s }),
  /** soft purges that would find processes still running the code they drop (OTP's check_old_processes) */
  z.object({ kind: z.literal("old-processes"), refusals: z.array(z.object({ step: z.number(), module: s, processes: z.array(ProcessRef) })) }),
  z.object({ kind: z.literal("restart-not-allowed") }),
  z.discriminatedUnion("operation", [
    z.object({ kind: z.literal("bad-status"), operation: z.literal("permanent"), version: s, current: s }),
    z.object({ kind: z.literal("bad-status"), operation: z.literal("remove"), version: s, status: z.enum(["permanent", "current"]) }),
  ]),
  z.object({ kind: z.literal("no-plan"), running: s }),
  /** `remove` of a release whose directory the running node still reads modules from (unchanged since) */
  z.object({ kind: z.literal("release-in-use"), version: s, root: s, modules: z.array(s), count: z.number().int() }),
  z.object({ kind: z.literal("no-releases"), root: s }),
  /** a record of the root (RELEASES, the install's record) could not be written before anything changed */
  z.object({ kind: z.literal("disk-full"), root: s, file: s, errno: s, running: s }),
  z.object({ kind: z.literal("unwritable"), root: s, file: s, errno: s, running: s }),
  /** the install ran but its records could not be put in place: what became of it */
  z.object({ kind: z.literal("record-failed"), root: s, from: s, to: s, running: s, write: WriteFailure, outcome: z.enum(["undone", "taken-over", "undo-failed"]), undoError: s.optional() }),
  /** a step failed; the node was rolled back to where it was (`rollbackFailures`: what it could not put back) */
  z.object({
    kind: z.literal("install-failed"),
    /** 0-based */
    index: z.number(),
    op: s,
    module: s.optional(),
    pid: s.optional(),
    cause: s,
    phase: z.enum(["before-point-of-no-return", "after-point-of-no-return"]),
    killed: z.array(ProcessRef),
    rollbackFailures: z.array(s),
  }),
  /**
   * a barrier point of the install (a sync_nodes step, or the hold before the point of no return) got
   * `abort`, or no decision within `timeoutMs`: the install failed there and was rolled back in memory
   */
  z.object({
    kind: z.literal("barrier-aborted"),
    id: s,
    reason: z.enum(["abort", "timeout"]),
    timeoutMs: z.number(),
    /** 0-based: the step that held */
    index: z.number(),
    phase: z.enum(["before-point-of-no-return", "after-point-of-no-return"]),
    killed: z.array(ProcessRef),
    rollbackFailures: z.array(s),
  }),
  /** a `barrier` decision for a point no install holds now (`held`: the one it holds, if another) */
  z.object({ kind: z.literal("no-barrier"), id: s, held: s.optional() }),
  /** an install or rollback asked for while an install holds at a barrier: refused, not queued behind it */
  z.object({ kind: z.literal("barrier-held"), cmd: z.enum(["install", "rollback"]), id: s, heldMs: z.number(), timeoutMs: z.number() }),
  /** a release (a tarball to unpack, the root's config.json) the node read is not sound */
  z.object({ kind: z.literal("release"), issues: z.array(ReleaseIssueSchema) }),
  /** the root's files could be changed by another user (the node checks what it writes; the client checks run/) */
  z.object({ kind: z.literal("root-untrusted"), issues: z.array(RootTrustIssueSchema) }),
  /** any other failure of the node while it handled the request */
  z.object({ kind: z.literal("node-failed"), message: s }),
  // The request is refused (the node keeps running).
  z.object({ kind: z.literal("bad-json") }),
  z.object({ kind: z.literal("bad-request"), problems: z.array(z.object({ field: s, message: s })) }),
  z.object({ kind: z.literal("request-too-deep"), at: s, limit: z.number(), planLimit: z.number() }),
  /** `request` in words; `bytes` when known (the client knows it, the node stops reading at the limit) */
  z.object({ kind: z.literal("request-too-large"), request: s, bytes: z.number().optional() }),
  // The control client.
  z.object({ kind: z.literal("no-node"), root: s, socket: s }),
  /** the connection closed before the answer: the node died or was killed while it handled `cmd` */
  z.object({ kind: z.literal("node-lost"), root: s, cmd: s, cause: s }),
  z.object({ kind: z.literal("no-answer"), root: s, cmd: s, cause: s }),
  /** the node's answer is not one the protocol has */
  z.object({ kind: z.literal("bad-answer"), root: s, cmd: s, detail: s }),
  /**
   * The node died while it installed `target` (or, with `rollback`, rolled back `version` → `target`):
   * `why` from the launcher's log, `step` the last step it reported starting, `now` the node the launcher
   * brought back on the permanent release (absent: none answered in `waitedMs`).
   */
  z.object({
    kind: z.literal("node-died"),
    root: s,
    pid: z.number(),
    version: s,
    target: s,
    rollback: z.boolean(),
    processCount: z.number(),
    step: s.optional(),
    why: s.optional(),
    now: z.object({ pid: z.number(), version: s }).optional(),
    waitedMs: z.number(),
  }),
  // The root, read without a node.
  /** `releases` of a directory with no RELEASES */
  z.object({ kind: z.literal("not-a-release-root"), root: s, releasesDir: s }),
  /** `stop` of a root with no release: no node can run there */
  z.object({ kind: z.literal("no-release-in-root"), root: s }),
  z.object({ kind: z.literal("launcher-did-not-stop"), root: s, pid: z.number(), waitedMs: z.number() }),
  /** `start <release>` of a root whose permanent release is another */
  z.object({ kind: z.literal("already-permanent"), root: s, release: s, version: s }),
  /** `start` without a release of a root that holds none */
  z.object({ kind: z.literal("empty-root"), root: s }),
]);
export type RuntimeIssue = z.infer<typeof RuntimeIssue>;
export type RuntimeIssueKind = RuntimeIssue["kind"];
