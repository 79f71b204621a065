/**
 * Runtime issues are data: one formatter, one schema (what a node's answer is parsed with), and one table
 * of exit codes (the CLI entry's). Every kind has a sample here: the map below does not compile without it.
 */
import { describe, expect, it } from "vitest";
import { exitCodeOf, runtimeExitCode } from "../../src/cli/exit-code.ts";
import { ExitCode, UserError } from "../../src/errors.ts";
import { formatRuntimeIssue } from "../../src/runtime/issues/format-runtime-issue.ts";
import { RuntimeError, toRuntimeIssue } from "../../src/runtime/issues/runtime-error.ts";
import { RuntimeIssue, type RuntimeIssueKind } from "../../src/runtime/issues/runtime-issue.ts";
import { ReleaseError } from "../../src/release/issues.ts";
import { RootTrustError } from "../../src/runtime/root-trust.ts";

const ID_A = "a".repeat(64);
const ID_B = "b".repeat(64);
const loner = { pid: "<0.7.0>", name: "loner", module: "shop/loner" };
const staged = { file: "/srv/root/releases/RELEASES", diskFull: true, errno: "ENOSPC" };

const SAMPLES: { [K in RuntimeIssueKind]: Extract<RuntimeIssue, { kind: K }>[] } = {
  "wrong-release": [{ kind: "wrong-release", release: "other", running: "shop" }, { kind: "wrong-release", release: "other", running: "shop", source: "/tmp/other-1.0.0.tar.gz" }],
  "existing-release": [{ kind: "existing-release", release: "shop", version: "2.0.0", existing: ID_A, unpacking: ID_B }],
  "no-such-release": [{ kind: "no-such-release", release: "shop", version: "3.0.0", root: "/srv/root", operation: "install" }, { kind: "no-such-release", release: "shop", version: "3.0.0", root: "/srv/root", operation: "remove" }],
  "stale-plan": [
    { kind: "stale-plan", plan: { from: "0.9.0", to: "2.0.0" }, running: "1.0.0", target: "2.0.0", mismatch: { what: "versions" } },
    { kind: "stale-plan", plan: { from: "1.0.0", to: "2.0.0" }, running: "1.0.0", target: "2.0.0", mismatch: { what: "running-build", planned: ID_A, found: ID_B } },
    { kind: "stale-plan", plan: { from: "1.0.0", to: "2.0.0" }, running: "1.0.0", target: "2.0.0", mismatch: { what: "target-build", planned: ID_A, found: ID_B } },
  ],
  "bad-plan": [{ kind: "bad-plan", issues: [{ code: "script", section: "up", at: 3, problem: { kind: "suspended-not-resumed", modules: ["shop/worker"] } }] }],
  "plan-meaning": [{ kind: "plan-meaning", from: "1.0.0", to: "2.0.0", issues: [{ code: "plan-meaning", section: "up", at: 3, op: "load", step: "load shop/worker", problem: { kind: "state-not-migrated", module: "shop/worker", from: "1", to: "2", mode: "up" } }] }],
  "old-processes": [{ kind: "old-processes", refusals: [{ step: 4, module: "shop/loner", processes: [loner] }] }],
  "restart-not-allowed": [{ kind: "restart-not-allowed" }],
  "bad-status": [{ kind: "bad-status", operation: "permanent", version: "2.0.0", current: "1.0.0" }, { kind: "bad-status", operation: "remove", version: "1.0.0", status: "permanent" }],
  "release-in-use": [{ kind: "release-in-use", version: "1.0.0", root: "/srv/root", modules: ["shop/cart", "shop/sup"], count: 7 }],
  "no-plan": [{ kind: "no-plan", running: "2.0.0" }],
  "no-releases": [{ kind: "no-releases", root: "/srv/root" }],
  "disk-full": [{ kind: "disk-full", root: "/srv/root", file: staged.file, errno: "ENOSPC", running: "1.0.0" }],
  unwritable: [{ kind: "unwritable", root: "/srv/root", file: staged.file, errno: "EACCES", running: "1.0.0" }],
  "record-failed": [
    { kind: "record-failed", root: "/srv/root", from: "1.0.0", to: "2.0.0", running: "1.0.0", write: staged, outcome: "undone" },
    { kind: "record-failed", root: "/srv/root", from: "1.0.0", to: "2.0.0", running: "2.0.0", write: staged, outcome: "taken-over" },
    { kind: "record-failed", root: "/srv/root", from: "1.0.0", to: "2.0.0", running: "2.0.0", write: { detail: "EIO" }, outcome: "undo-failed", undoError: "step 3 failed" },
  ],
  "install-failed": [
    { kind: "install-failed", index: 0, op: "load_object_code", cause: "no such file", phase: "before-point-of-no-return", killed: [], rollbackFailures: [] },
    { kind: "install-failed", index: 5, op: "code_change", module: "shop/worker", pid: "<0.9.0>", cause: "cannot migrate", phase: "after-point-of-no-return", killed: [loner], rollbackFailures: ["no child w"] },
  ],
  "barrier-aborted": [
    { kind: "barrier-aborted", id: "point_of_no_return", reason: "timeout", timeoutMs: 30_000, index: 2, phase: "before-point-of-no-return", killed: [], rollbackFailures: [] },
    { kind: "barrier-aborted", id: "caches-warm", reason: "abort", timeoutMs: 60_000, index: 7, phase: "after-point-of-no-return", killed: [], rollbackFailures: [] },
  ],
  "no-barrier": [{ kind: "no-barrier", id: "point_of_no_return" }, { kind: "no-barrier", id: "caches-warm", held: "point_of_no_return" }],
  "barrier-held": [{ kind: "barrier-held", cmd: "install", id: "point_of_no_return", heldMs: 4_200, timeoutMs: 60_000 }],
  release: [{ kind: "release", issues: [{ code: "corrupt-archive", file: "/tmp/shop-2.0.0.tar.gz", detail: "the gzip stream is truncated" }] }],
  "root-untrusted": [{ kind: "root-untrusted", issues: [{ kind: "writable-by-others", path: "/srv/root/run", mode: 0o777 }] }],
  "node-failed": [{ kind: "node-failed", message: "the node could not handle the request: boom" }],
  "bad-json": [{ kind: "bad-json" }],
  "bad-request": [{ kind: "bad-request", problems: [{ field: "cmd", message: "Invalid input" }] }],
  "request-too-deep": [{ kind: "request-too-deep", at: "plan.up.3", limit: 66, planLimit: 64 }],
  "request-too-large": [{ kind: "request-too-large", request: "the request" }, { kind: "request-too-large", request: "the install request", bytes: 2_000_000 }],
  "no-node": [{ kind: "no-node", root: "/srv/root", socket: "/srv/root/run/control.sock" }],
  "node-lost": [{ kind: "node-lost", root: "/srv/root", cmd: "install", cause: "read ECONNRESET" }],
  "no-answer": [{ kind: "no-answer", root: "/srv/root", cmd: "status", cause: "no answer within 10 ms" }],
  "bad-answer": [{ kind: "bad-answer", root: "/srv/root", cmd: "status", detail: "ok: Invalid input" }],
  "node-died": [
    { kind: "node-died", root: "/srv/root", pid: 41, version: "1.0.0", target: "2.0.0", rollback: false, processCount: 6, waitedMs: 60_000 },
    { kind: "node-died", root: "/srv/root", pid: 41, version: "1.0.0", target: "2.0.0", rollback: false, processCount: 6, waitedMs: 60_000, step: "step 5/6 (code_change up shop/worker)", why: "it stopped answering its launcher", now: { pid: 52, version: "1.0.0" } },
    { kind: "node-died", root: "/srv/root", pid: 41, version: "2.0.0", target: "1.0.0", rollback: true, processCount: 6, waitedMs: 60_000, now: { pid: 52, version: "1.0.0" } },
  ],
  "not-a-release-root": [{ kind: "not-a-release-root", root: "/srv/x", releasesDir: "/srv/x/releases" }],
  "no-release-in-root": [{ kind: "no-release-in-root", root: "/srv/x" }],
  "launcher-did-not-stop": [{ kind: "launcher-did-not-stop", root: "/srv/root", pid: 40, waitedMs: 30_000 }],
  "already-permanent": [{ kind: "already-permanent", root: "/srv/root", release: "shop", version: "1.0.0" }],
  "empty-root": [{ kind: "empty-root", root: "/srv/root" }],
};
const ALL: RuntimeIssue[] = Object.values(SAMPLES).flat();

describe("formatRuntimeIssue", () => {
  it("words every kind: no empty text, no field left out", () => {
    for (const issue of ALL) {
      const text = formatRuntimeIssue(issue);
      expect(text.length, issue.kind).toBeGreaterThan(10);
      expect(text, issue.kind).not.toMatch(/undefined|\[object Object\]/);
    }
  });

  it("keeps the words the release handler used: a stale plan names the versions and the command that makes the right plan", () => {
    expect(formatRuntimeIssue(SAMPLES["stale-plan"][0]!)).toBe(
      "stale plan: it goes between 0.9.0 and 2.0.0, but the node runs 1.0.0 and the target is 2.0.0. Fix: generate the plan between the running release and the target (relup generate <1.0.0 release> <2.0.0 release> -o plans/)",
    );
    expect(formatRuntimeIssue(SAMPLES["stale-plan"][1]!)).toBe(`stale plan: it was made for another build of 1.0.0 (identity ${"a".repeat(12)}…, running ${"b".repeat(12)}…). Fix: generate the plan again from the running release`);
    expect(formatRuntimeIssue(SAMPLES["old-processes"][0]!)).toContain("step 5 would purge shop/loner with soft_purge while a process still runs it: <0.7.0> (loner). Nothing was changed.");
    expect(formatRuntimeIssue(SAMPLES["disk-full"][0]!)).toBe("/srv/root/releases/RELEASES could not be written (no space left on device: ENOSPC). Nothing was changed: the node runs 1.0.0. Fix: free space on the file system of /srv/root, then run the command again");
    expect(formatRuntimeIssue(SAMPLES["bad-plan"][0]!)).toBe("the plan fails the plan checker: up (end of the section): `shop/worker` suspended but never resumed: their processes would stop for good. Fix: add a resume.");
  });

  it("says what became of a node that died during an install or a rollback", () => {
    const [gone, back, rolledBack] = SAMPLES["node-died"];
    expect(formatRuntimeIssue(gone!)).toBe("the node (pid 41) died while it installed 2.0.0. No node answers at /srv/root 60 s later. Fix: see /srv/root/log/launcher.jsonl and node.jsonl, then start it with `relup start --root /srv/root`.");
    expect(formatRuntimeIssue(back!)).toBe(
      "the node (pid 41) died while it installed 2.0.0, at step 5/6 (code_change up shop/worker): it stopped answering its launcher. The install did not happen: the node was restarted on the permanent release 1.0.0 (pid 52); the in-memory state of 6 processes was reset. Fix: correct what blocked it (/srv/root/log holds the node's and the launcher's logs), rebuild, and apply again.",
    );
    expect(formatRuntimeIssue(rolledBack!)).toContain("rolled back 2.0.0 → 1.0.0. The node was restarted on the permanent release 1.0.0 (pid 52), the release the rollback went to, but by a restart, not live;");
  });

  it("says on which side of the point of no return an install failed", () => {
    const [before, after] = SAMPLES["install-failed"];
    expect(formatRuntimeIssue(before!)).toBe("step 1 (load_object_code) failed: no such file (before the point of no return: no running code had changed yet)");
    expect(formatRuntimeIssue(after!)).toBe(
      "step 6 (code_change) at module shop/worker, process <0.9.0> failed: cannot migrate; processes killed at a purge, not brought back: <0.7.0> (loner); rollback incomplete: no child w (after the point of no return: the install had changed running code, and undid it)",
    );
  });
});

describe("barrier issues", () => {
  it("say which barrier, why it did not go, and that the node runs what it ran", () => {
    const [timeout, abort] = SAMPLES["barrier-aborted"];
    expect(formatRuntimeIssue(timeout!)).toBe("the install held at barrier point_of_no_return (step 3) and got no decision within 30000 ms, and the node aborted it by itself. It was rolled back in memory: nothing running had changed yet; the node runs the release it ran before");
    expect(formatRuntimeIssue(abort!)).toContain("barrier caches-warm (step 8) and was aborted (decision abort). It was rolled back in memory: the install had changed running code, and undid it");
    expect(formatRuntimeIssue(SAMPLES["no-barrier"][1]!)).toBe("no install holds at barrier caches-warm (the install holds at point_of_no_return); nothing was decided");
    expect(formatRuntimeIssue(SAMPLES["barrier-held"][0]!)).toBe("refused: an install holds at barrier point_of_no_return (for 4 s, at most 60 s), waiting for go or abort. Nothing was changed. Fix: decide it (a `barrier` control request) or wait until it times out, then install again");
  });
});

describe("the RuntimeIssue schema (what the client parses a node's answer with)", () => {
  it("takes back every issue the node sends, as it was sent", () => {
    for (const issue of ALL) expect(RuntimeIssue.parse(JSON.parse(JSON.stringify(issue))), issue.kind).toEqual(issue);
  });

  it("refuses an issue it does not know, and one whose nested issues it does not know", () => {
    expect(RuntimeIssue.safeParse({ kind: "something-else" }).success).toBe(false);
    expect(RuntimeIssue.safeParse({ kind: "bad-plan", issues: [{ code: "made-up" }] }).success).toBe(false);
    expect(RuntimeIssue.safeParse({ kind: "stale-plan", plan: { from: "1.0.0", to: "2.0.0" }, running: "1.0.0", target: "2.0.0" }).success).toBe(false);
    expect(RuntimeIssue.safeParse({ kind: "bad-status", operation: "remove", version: "1.0.0", current: "1.0.0" }).success).toBe(false);
  });
});

describe("the exit code table (src/cli/exit-code.ts)", () => {
  it("gives every kind a code: 2 for input that cannot be read or sent, 1 for a refusal, a failed upgrade or a node out of reach", () => {
    const badInput = new Set<RuntimeIssueKind>(["release", "root-untrusted", "bad-json", "bad-request", "request-too-deep", "request-too-large", "not-a-release-root", "no-release-in-root", "already-permanent", "empty-root"]);
    for (const issue of ALL) expect(runtimeExitCode(issue), issue.kind).toBe(badInput.has(issue.kind) ? ExitCode.badInput : ExitCode.checkFailed);
  });

  it("is what the CLI entry uses for a RuntimeError; another expected failure keeps its own; a bug has none", () => {
    expect(exitCodeOf(new RuntimeError(SAMPLES["stale-plan"][0]!, "node"))).toBe(ExitCode.checkFailed);
    expect(exitCodeOf(new RuntimeError(SAMPLES["request-too-large"][1]!))).toBe(ExitCode.badInput);
    expect(exitCodeOf(new UserError("bad flag", ExitCode.badInput))).toBe(ExitCode.badInput);
    expect(exitCodeOf(new Error("boom"))).toBeUndefined();
  });
});

describe("toRuntimeIssue (what the node answers for an error its request threw)", () => {
  it("keeps a runtime issue, and carries a release's or the root check's issues as data", () => {
    expect(toRuntimeIssue(new RuntimeError(SAMPLES["no-plan"][0]!))).toEqual(SAMPLES["no-plan"][0]);
    const release = SAMPLES.release[0]!;
    expect(toRuntimeIssue(new ReleaseError(release.issues))).toEqual(release);
    const trust = SAMPLES["root-untrusted"][0]!;
    expect(toRuntimeIssue(new RootTrustError(trust.issues))).toEqual(trust);
    expect(formatRuntimeIssue(trust)).toBe(new RootTrustError(trust.issues).message);
    expect(toRuntimeIssue(new TypeError("x is not a function"))).toEqual({ kind: "node-failed", message: "x is not a function" });
  });
});
