/**
 * The one place that turns a runtime issue into text: what was found, what it means for the node
 * (whether anything changed), and what to do.
 */
import path from "node:path";
import { errnoMessage } from "../errno-message.ts";
import { assertNever } from "../../errors.ts";
import { formatPlanIssue } from "../../relup/issues.ts";
import { formatReleaseIssue } from "../../release/issues.ts";
import { MAX_REQUEST_BYTES } from "../control-protocol.ts";
import { tooDeepDetail } from "../../release/json-depth.ts";
import { describeProcesses } from "../kill-processes.ts";
import { rootTrustMessage } from "../root-trust.ts";
import type { RuntimeIssue } from "./runtime-issue.ts";

const short = (identity: string) => `${identity.slice(0, 12)}…`;

/**
 * A control request longer than MAX_REQUEST_BYTES (1 MiB). Only a plan makes a request that long: a plan's
 * step takes some hundred bytes, so 1 MiB is thousands of steps, or `code_change` `extra` values that
 * carry data. The client refuses such a request before sending it; the node refuses a line that grows
 * past the limit and closes the connection. Both say the same thing, and what to do.
 */
const REQUEST_TOO_LARGE_FIX =
  "keep each code_change `extra` small (ship bulky data in the new release, as a module or env its codeChange reads), or upgrade through an intermediate release so that each plan changes fewer modules (docs/reference.md, Limits).";

export function formatRuntimeIssue(issue: RuntimeIssue): string {
  switch (issue.kind) {
    case "wrong-release":
      return `${issue.source !== undefined ? `${issue.source} is release` : "the plan is for release"} ${issue.release}; this node runs ${issue.running}`;
    case "existing-release":
      return `${issue.release} ${issue.version} is already unpacked from another build (identity ${short(issue.existing)}, this one ${short(issue.unpacking)}). Fix: remove it first (relup remove ${issue.version}), or build a new version`;
    case "no-such-release":
      return issue.operation === "install" ? `${issue.release} ${issue.version} is not unpacked in ${issue.root}. Fix: relup unpack <its tarball> first` : `no release ${issue.version} in ${issue.root}`;
    case "stale-plan":
      return formatStalePlan(issue);
    case "bad-plan":
      return `the plan fails the plan checker: ${issue.issues.map(formatPlanIssue).join("; ")}`;
    case "plan-meaning":
      return `the plan does not do what the difference between ${issue.from} and ${issue.to} needs:\n${issue.issues.map((i) => `  ${formatPlanIssue(i)}`).join("\n")}\nNothing was changed.`;
    case "old-processes": {
      const each = issue.refusals.map((r) => `step ${r.step + 1} would purge ${r.module} with soft_purge while ${r.processes.length === 1 ? "a process still runs" : `${r.processes.length} processes still run`} it: ${describeProcesses(r.processes)}`);
      return `the plan cannot be installed: ${each.join("; ")}. Nothing was changed. Fix: have the plan stop them before the purge (a stop step for a supervised child, or stop the application that runs them), stop them yourself, or use brutal_purge to let the purge kill them`;
    }
    case "restart-not-allowed":
      return "the plan restarts the node (restart_new_emulator): every process's in-memory state would be lost. Nothing was changed. Fix: apply it with --allow-restart";
    case "bad-status":
      return issue.operation === "permanent" ? `${issue.version} is not the current release (${issue.current} is); install it first` : `${issue.version} is ${issue.status}; only unpacked or old releases can be removed`;
    case "release-in-use": {
      const more = issue.count > issue.modules.length ? ` and ${issue.count - issue.modules.length} more` : "";
      return `${issue.version} still serves ${issue.count} module${issue.count === 1 ? "" : "s"} of the running node (${issue.modules.join(", ")}${more}): no upgrade since changed them, so their code was read from releases/${issue.version}, and any file they require or read later is there. Fix: keep ${issue.version} until the node boots a later permanent release (\`relup permanent\`, then a restart: \`relup stop\` and \`relup start --root ${issue.root}\`), or delete it anyway with \`relup remove ${issue.version} --force --root ${issue.root}\` (those modules keep running from memory; a file they open later is gone)`;
    }
    case "no-plan":
      return `no plan leads back from ${issue.running}: it was not installed by this node and ships no plan from a release this root holds (plans/<from>-${issue.running}.json)`;
    case "no-releases":
      return `${issue.root} has no releases/RELEASES`;
    case "disk-full":
    case "unwritable":
      return `${describeWrite({ file: issue.file, diskFull: issue.kind === "disk-full", errno: issue.errno })}. Nothing was changed: the node runs ${issue.running}. Fix: ${issue.kind === "disk-full" ? `free space on the file system of ${issue.root}` : `make ${issue.file} a file this user can write (${issue.errno})`}, then run the command again`;
    case "record-failed":
      return formatRecordFailed(issue);
    case "install-failed": {
      const at = [issue.module && `module ${issue.module}`, issue.pid && `process ${issue.pid}`].filter(Boolean).join(", ");
      const lost = issue.killed.length > 0 ? `; processes killed at a purge, not brought back: ${describeProcesses(issue.killed)}` : "";
      const incomplete = issue.rollbackFailures.length > 0 ? `; rollback incomplete: ${issue.rollbackFailures.join("; ")}` : "";
      const phase = issue.phase === "before-point-of-no-return" ? "before the point of no return: no running code had changed yet" : "after the point of no return: the install had changed running code, and undid it";
      return `step ${issue.index + 1} (${issue.op})${at ? ` at ${at}` : ""} failed: ${issue.cause}${lost}${incomplete} (${phase})`;
    }
    case "barrier-aborted": {
      const why = issue.reason === "abort" ? "was aborted (decision abort)" : `got no decision within ${issue.timeoutMs} ms, and the node aborted it by itself`;
      const incomplete = issue.rollbackFailures.length > 0 ? `; rollback incomplete: ${issue.rollbackFailures.join("; ")}` : "";
      const lost = issue.killed.length > 0 ? `; processes killed at a purge, not brought back: ${describeProcesses(issue.killed)}` : "";
      const undone = issue.phase === "before-point-of-no-return" ? "nothing running had changed yet" : "the install had changed running code, and undid it";
      return `the install held at barrier ${issue.id} (step ${issue.index + 1}) and ${why}. It was rolled back in memory: ${undone}${lost}${incomplete}; the node runs the release it ran before`;
    }
    case "no-barrier":
      return `no install holds at barrier ${issue.id}${issue.held !== undefined ? ` (the install holds at ${issue.held})` : " now: it was decided already, timed out, or never reached"}; nothing was decided`;
    case "barrier-held":
      return `refused: an install holds at barrier ${issue.id} (for ${Math.round(issue.heldMs / 1000)} s, at most ${Math.round(issue.timeoutMs / 1000)} s), waiting for go or abort. Nothing was changed. Fix: decide it (a \`barrier\` control request) or wait until it times out, then ${issue.cmd === "install" ? "install" : "roll back"} again`;
    case "release":
      return issue.issues.map(formatReleaseIssue).join("\n");
    case "root-untrusted":
      return rootTrustMessage(issue.issues);
    case "node-failed":
      return issue.message;
    case "bad-json":
      return "the request is not a JSON line";
    case "bad-request":
      return issue.problems.map((p) => `${p.field}: ${p.message}`).join("; ");
    case "request-too-deep":
      return `${issue.at}: the request ${tooDeepDetail(issue.limit)}. Fix: flatten that value; a plan in a request may nest ${issue.planLimit} levels, as in a file (docs/reference.md, Limits).`;
    case "request-too-large": {
      const size = issue.bytes === undefined ? `over ${MAX_REQUEST_BYTES} bytes` : `${issue.bytes} bytes`;
      return `${issue.request} is ${size}, over the control socket's limit of ${MAX_REQUEST_BYTES} bytes (1 MiB) per request; the plan travels inside the request. Fix: ${REQUEST_TOO_LARGE_FIX}`;
    }
    case "no-node":
      return `${issue.root}: no node is running there (no control socket at ${issue.socket}). Fix: start it with \`relup start --root ${issue.root}\` (it boots the permanent release; a new root needs \`relup start <release> --root ${issue.root}\`).`;
    case "node-lost":
      return `${issue.root}: the node closed the control connection before answering ${issue.cmd} (${issue.cause}): it died or was killed. Fix: check \`relup status --root ${issue.root}\` and the logs in ${issue.root}/log.`;
    case "no-answer":
      return `${issue.root}: the node did not answer ${issue.cmd} (${issue.cause}). Fix: check \`relup status --root ${issue.root}\` and the node's log in ${issue.root}/log.`;
    case "bad-answer":
      return `${issue.root}: the node's answer to ${issue.cmd} is not one of the control protocol (${issue.detail}). Fix: run the same relup version for the node and the command; see the node's log in ${issue.root}/log.`;
    case "node-died":
      return formatNodeDied(issue);
    case "not-a-release-root":
      return `${issue.root} is not a release root: it has no ${issue.releasesDir}/RELEASES. Fix: give the root a node was started in (--root), or start one with \`relup start <release> --root ${issue.root}\`.`;
    case "no-release-in-root":
      return `${issue.root}: holds no release, so no node can run there. Fix: give the --root the node was started with.`;
    case "launcher-did-not-stop":
      return `${issue.root}: the launcher (pid ${issue.pid}) did not stop within ${issue.waitedMs / 1000} s. Fix: look at ${path.join(issue.root, "log", "launcher.jsonl")}; end it with \`kill ${issue.pid}\`.`;
    case "already-permanent":
      return `${issue.root}: already holds ${issue.release} ${issue.version} as its permanent release; \`start\` boots that one. Fix: leave out the release argument, or upgrade with \`relup apply\`.`;
    case "empty-root":
      return `${issue.root}: holds no release yet. Fix: give the release to install: \`relup start <release dir or tarball> --root ${issue.root}\`.`;
    default:
      return assertNever(issue);
  }
}

function formatNodeDied(issue: Extract<RuntimeIssue, { kind: "node-died" }>): string {
  const doing = issue.rollback ? `rolled back ${issue.version} → ${issue.target}` : `installed ${issue.target}`;
  const lost = `the node (pid ${issue.pid}) died while it ${doing}${issue.step ? `, at ${issue.step}` : ""}${issue.why ? `: ${issue.why}` : ""}`;
  const { now, root } = issue;
  if (!now) return `${lost}. No node answers at ${root} ${issue.waitedMs / 1000} s later. Fix: see ${path.join(root, "log", "launcher.jsonl")} and node.jsonl, then start it with \`relup start --root ${root}\`.`;
  const reset = `the in-memory state of ${issue.processCount} processes was reset`;
  const logs = `${path.join(root, "log")} holds the node's and the launcher's logs`;
  if (issue.rollback) {
    // The launcher boots the permanent release: the one the rollback went to if the upgrade was never made
    // permanent (the rollback then happened, by a restart), else the one it left.
    const landed = now.version === issue.target ? `, the release the rollback went to, but by a restart, not live` : `: the rollback did not happen`;
    return `${lost}. The node was restarted on the permanent release ${now.version} (pid ${now.pid})${landed}; ${reset}. Fix: correct what blocked it (${logs})${now.version === issue.target ? "" : ", then roll back again"}.`;
  }
  return `${lost}. The install did not happen: the node was restarted on the permanent release ${now.version} (pid ${now.pid}); ${reset}. Fix: correct what blocked it (${logs}), rebuild, and apply again.`;
}

function formatStalePlan(issue: Extract<RuntimeIssue, { kind: "stale-plan" }>): string {
  const m = issue.mismatch;
  switch (m.what) {
    case "versions":
      return `stale plan: it goes between ${issue.plan.from} and ${issue.plan.to}, but the node runs ${issue.running} and the target is ${issue.target}. Fix: generate the plan between the running release and the target (relup generate <${issue.running} release> <${issue.target} release> -o plans/)`;
    case "running-build":
      return `stale plan: it was made for another build of ${issue.running} (identity ${short(m.planned)}, running ${short(m.found)}). Fix: generate the plan again from the running release`;
    case "target-build":
      return `stale plan: it was made for another build of ${issue.target} (identity ${short(m.planned)}, unpacked ${short(m.found)}). Fix: generate the plan again from the release you apply`;
    default:
      return assertNever(m);
  }
}

type WriteFailure = Extract<RuntimeIssue, { kind: "record-failed" }>["write"];

function describeWrite(write: WriteFailure): string {
  if ("detail" in write) return `its records could not be written (${write.detail})`;
  return `${write.file} could not be written (${errnoMessage(write.errno) ?? (write.diskFull ? "no space left on device" : "not writable")}: ${write.errno})`;
}

function formatRecordFailed(issue: Extract<RuntimeIssue, { kind: "record-failed" }>): string {
  const what = `the install to ${issue.to} ran, but ${describeWrite(issue.write)}`;
  const space = `free space on the file system of ${issue.root}`;
  switch (issue.outcome) {
    case "taken-over":
      return `${what}. The node that took over runs ${issue.running}, which RELEASES does not record as asked; a restart boots the permanent release. Fix: ${space}, then \`relup permanent ${issue.running} --root ${issue.root}\` to keep it, or restart the node to go back`;
    case "undo-failed":
      return `${what}; undoing it failed too (${issue.undoError ?? "unknown error"}). The node was left changed: it runs ${issue.running}, and a restart boots the permanent release. Fix: ${space}, then restart the node (\`relup stop --root ${issue.root}\`, then \`relup start --root ${issue.root}\`): it boots the permanent release, and its processes' in-memory state is lost`;
    case "undone":
      return `${what}; it was undone in memory, the node runs ${issue.from} as before. Nothing was changed. Fix: ${space}, then run the command again`;
    default:
      return assertNever(issue.outcome);
  }
}
