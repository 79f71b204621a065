/**
 * zod schemas of the plan checker's, the release reader's and the root check's issues, for the runtime issues that carry
 * them over the control socket (a node's answer is input to the client, and is parsed as such). The
 * checks at the bottom fail to compile when one of their unions gains a variant these do not know.
 */
import { z } from "zod";
import { Instruction, type Op } from "../../relup/instruction.ts";
import type { MeaningProblem, PlanIssue, ScriptProblem } from "../../relup/issues.ts";
import type { ReleaseIssue } from "../../release/issues.ts";
import type { RootTrustIssue } from "../root-trust.ts";

const s = z.string();
const strings = z.array(s);
const direction = z.enum(["up", "down"]);

const ScriptProblemSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("bad-op-before-point-of-no-return"), op: s }),
  z.object({ kind: z.literal("point-of-no-return-count"), count: z.number() }),
  z.object({ kind: z.literal("object-code-after-point-of-no-return") }),
  z.object({ kind: z.literal("restart-new-emulator-not-first") }),
  z.object({ kind: z.literal("no-object-code"), module: s }),
  z.object({ kind: z.literal("suspended-not-resumed"), modules: strings }),
  z.object({ kind: z.literal("resumed-not-suspended"), modules: strings }),
  z.object({ kind: z.literal("code-change-not-suspended"), modules: strings }),
  z.object({ kind: z.literal("stopped-not-started"), modules: strings }),
  z.object({ kind: z.literal("started-not-stopped"), modules: strings }),
  z.object({ kind: z.literal("conflicting-object-code"), application: s, versions: strings }),
  z.object({ kind: z.literal("duplicate-barrier"), id: s }),
]);

const mode = direction;
const OpSchema = z.enum(Instruction.options.map((o) => o.shape.op.value) as [Op, ...Op[]]);
const MeaningProblemSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("state-not-migrated"), module: s, from: s, to: s, mode }),
  z.object({ kind: z.literal("code-change-mode"), mode }),
  z.object({ kind: z.literal("code-change-order"), module: s, mode }),
  z.object({ kind: z.literal("stopped-not-started"), module: s }),
  z.object({ kind: z.literal("not-loaded"), module: s, added: z.boolean(), packages: z.array(s).optional() }),
  z.object({ kind: z.literal("not-removed"), module: s }),
  z.object({ kind: z.literal("restart-required"), reasons: z.array(s) }),
  z.object({ kind: z.literal("unknown-module"), module: s }),
  z.object({ kind: z.literal("remove-staying"), module: s }),
  z.object({ kind: z.literal("purge-untouched"), module: s }),
  z.object({ kind: z.literal("stop-unchanged"), module: s }),
  z.object({ kind: z.literal("application-ended"), application: s, function: s }),
]);

export const PlanIssueSchema = z.discriminatedUnion("code", [
  z.object({ code: z.literal("release-name-mismatch"), from: s, to: s }),
  z.object({ code: z.literal("version-not-greater"), release: s, from: s, to: s }),
  z.object({ code: z.literal("module-changed-same-version"), app: s, version: s, modules: strings }),
  z.object({ code: z.literal("app-changed-same-version"), app: s, version: s, fields: strings }),
  z.object({ code: z.literal("state-change-without-code-change"), module: s, from: s, to: s }),
  z.object({ code: z.literal("state-shape-changed-soft"), module: s, vsn: z.union([s, z.number(), z.null()]), path: s, from: s, to: s }),
  z.object({ code: z.literal("dependency-cycle"), cycle: strings }),
  z.object({ code: z.literal("removed-module-imported"), module: s, importedBy: strings }),
  z.object({ code: z.literal("appup-version-mismatch"), file: s, expected: s, found: s }),
  z.object({ code: z.literal("appup-application-mismatch"), file: s, expected: s, found: s }),
  z.object({ code: z.literal("appup-bad-version-spec"), file: s, field: s, spec: s }),
  z.object({ code: z.literal("appup-no-path"), file: s, direction, version: s }),
  z.object({ code: z.literal("unknown-module"), file: s, field: s, module: s, release: s }),
  z.object({ code: z.literal("unknown-application"), file: s, field: s, application: s, release: s }),
  z.object({ code: z.literal("duplicate-module-instruction"), module: s, file: s }),
  z.object({ code: z.literal("appup-missing-module"), file: s, direction, modules: strings }),
  z.object({ code: z.literal("appup-advanced-without-code-change"), file: s, direction, module: s }),
  z.object({ code: z.literal("appup-state-not-migrated"), file: s, direction, module: s, from: s, to: s }),
  z.object({ code: z.literal("removed-application-present"), file: s, field: s, application: s }),
  z.object({ code: z.literal("restarted-application-module"), file: s, field: s, module: s, application: s }),
  z.object({ code: z.literal("script"), section: direction, at: z.number(), problem: ScriptProblemSchema }),
  z.object({ code: z.literal("plan-meaning"), section: direction, at: z.number(), op: OpSchema.optional(), step: s.optional(), problem: MeaningProblemSchema, appups: strings.optional() }),
]);

export const ReleaseIssueSchema = z.discriminatedUnion("code", [
  z.object({ code: z.literal("missing-file"), file: s, why: s, fix: s.optional() }),
  z.object({ code: z.literal("invalid-json"), file: s, detail: s, fix: s.optional() }),
  z.object({ code: z.literal("invalid-field"), file: s, field: s, detail: s, fix: s.optional() }),
  z.object({ code: z.literal("unsafe-path"), file: s, entry: s, why: s }),
  z.object({ code: z.literal("link-entry"), file: s, entry: s, target: s }),
  z.object({ code: z.literal("special-entry"), file: s, entry: s, kind: s }),
  z.object({ code: z.literal("duplicate-entry"), file: s, entry: s }),
  z.object({ code: z.literal("outside-release-dir"), file: s, entry: s, expected: s }),
  z.object({ code: z.literal("oversized"), file: s, entry: s, size: z.number(), limit: z.number(), what: z.enum(["entry", "release"]) }),
  z.object({ code: z.literal("too-many-entries"), file: s, limit: z.number() }),
  z.object({ code: z.literal("corrupt-archive"), file: s, detail: s }),
  z.object({ code: z.literal("trailing-data"), file: s, limit: z.number() }),
  z.object({ code: z.literal("after-gzip"), file: s, bytes: z.number(), gzipBytes: z.number() }),
  z.object({ code: z.literal("expansion"), file: s, unpacked: z.number(), compressed: z.number(), ratio: z.number(), floor: z.number() }),
  z.object({ code: z.literal("disk-full"), file: s, at: s, errno: s }),
  z.object({ code: z.literal("unwritable"), file: s, at: s, errno: s, detail: s }),
  z.object({ code: z.literal("checksum-mismatch"), file: s, entry: s, expected: s, found: s }),
  z.object({ code: z.literal("unlisted-file"), file: s, entry: s }),
  z.object({ code: z.literal("listed-file-missing"), file: s, entry: s }),
  z.object({ code: z.literal("mismatch"), file: s, field: s, expected: s, found: s }),
  z.object({ code: z.literal("unknown-reference"), file: s, field: s, ref: s, kind: z.enum(["module", "application"]) }),
  z.object({ code: z.literal("destination-exists"), file: s }),
  z.object({ code: z.literal("build-failed"), file: s, field: s.optional(), detail: s, fix: s }),
  z.object({ code: z.literal("type-error"), file: s, detail: s }),
]);

export const RootTrustIssueSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("symlink"), path: s }),
  z.object({ kind: z.literal("not-a-directory"), path: s }),
  z.object({ kind: z.literal("foreign-owner"), path: s, uid: z.number(), expectedUid: z.number() }),
  z.object({ kind: z.literal("writable-by-others"), path: s, mode: z.number() }),
  z.object({ kind: z.literal("socket-path-too-long"), path: s, socketPath: s, bytes: z.number() }),
]);

// Both ways: a variant added to a union here or there, or a field changed, stops the build.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const planIssuesMatch: Same<z.infer<typeof PlanIssueSchema>, PlanIssue> = true;
const scriptProblemsMatch: Same<z.infer<typeof ScriptProblemSchema>, ScriptProblem> = true;
const meaningProblemsMatch: Same<z.infer<typeof MeaningProblemSchema>, MeaningProblem> = true;
const releaseIssuesMatch: Same<z.infer<typeof ReleaseIssueSchema>, ReleaseIssue> = true;
const rootTrustIssuesMatch: Same<z.infer<typeof RootTrustIssueSchema>, RootTrustIssue> = true;
void [planIssuesMatch, scriptProblemsMatch, meaningProblemsMatch, releaseIssuesMatch, rootTrustIssuesMatch];
