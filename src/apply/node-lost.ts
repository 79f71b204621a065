/**
 * The node died while it installed a release (or rolled one back): its launcher killed it because it stopped answering (a
 * synchronous loop, e.g. a codeChange that never returns), or it crashed. The launcher boots the
 * permanent release again, so the install is undone, and so is every process's in-memory state. This
 * turns the lost connection into an error that says so, never silently: why the node died (from the
 * launcher's log), what it runs now, and how many processes started afresh.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { NodeLost, controlRequest } from "../runtime/control-client.ts";
import { RuntimeError } from "../runtime/issues/runtime-error.ts";
import type { ControlRequest, ControlResult } from "../runtime/control-protocol.ts";
import type { Progress } from "../runtime/executor.ts";

/** How long to wait for the launcher to bring a node back (its backoff is at most 5 s, plus a boot). */
const COME_BACK_MS = 60_000;

export interface BeforeInstall {
  pid: number;
  version: string;
  processCount: number;
  target: string;
  /** the node was rolling back (relup rollback), not installing */
  rollback?: boolean;
  /** the last step the node reported starting, in words */
  step?: string;
}

/** `error` as thrown by the install (or rollback) request; when the node was lost, an error that tells what became of it. */
export async function describeLostNode(root: string, error: unknown, before: BeforeInstall): Promise<unknown> {
  if (!(error instanceof NodeLost)) return error;
  const now = await nodeBack(root, before.pid);
  const why = await launcherReason(root, before.pid);
  return new RuntimeError({
    kind: "node-died",
    root,
    pid: before.pid,
    version: before.version,
    target: before.target,
    rollback: before.rollback ?? false,
    processCount: before.processCount,
    waitedMs: COME_BACK_MS,
    ...(before.step ? { step: before.step } : {}),
    ...(why ? { why } : {}),
    ...(now ? { now } : {}),
  });
}

/** The node that replaced `oldPid`, once it answers; undefined if none does in time. */
async function nodeBack(root: string, oldPid: number): Promise<{ pid: number; version: string } | undefined> {
  const deadline = Date.now() + COME_BACK_MS;
  while (Date.now() < deadline) {
    const status = await controlRequest(root, { cmd: "status" }, { timeout: 2_000 }).catch(() => undefined);
    if (status && status.pid !== oldPid) return { pid: status.pid, version: status.release.version };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

/** What the launcher logged about the end of node `pid` (log/launcher.jsonl), in words. */
async function launcherReason(root: string, pid: number): Promise<string | undefined> {
  const text = await readFile(path.join(root, "log", "launcher.jsonl"), "utf8").catch(() => "");
  const events = text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => {
      try {
        return JSON.parse(line) as { event?: string; pid?: number; silentMs?: number; code?: number | null; signal?: string | null };
      } catch {
        return {};
      }
    })
    .filter((e) => e.pid === pid);
  const unresponsive = events.findLast((e) => e.event === "node unresponsive");
  if (unresponsive) return `it stopped answering its launcher for ${unresponsive.silentMs} ms (a synchronous loop, such as a codeChange that never returns, blocks its event loop), so the launcher killed it`;
  const exited = events.findLast((e) => e.event === "node exited");
  if (exited) return `it exited (${exited.signal ? `signal ${exited.signal}` : `code ${exited.code}`})`;
  return undefined;
}

/**
 * An install or rollback request: its progress is passed on, and the last step the node reported is
 * remembered, so that a node lost on the way is described with where it was (describeLostNode).
 */
export async function requestWatchingSteps<R extends ControlRequest>(root: string, request: R, before: Omit<BeforeInstall, "step">, options: { progress?: (event: Progress) => void; timeout?: number }): Promise<ControlResult<R>> {
  let step: Extract<Progress, { phase: "step" }> | undefined;
  const onProgress = (e: unknown) => {
    if ((e as Progress).phase === "step") step = e as Extract<Progress, { phase: "step" }>;
    options.progress?.(e as Progress);
  };
  return controlRequest(root, request, { onProgress, ...(options.timeout !== undefined ? { timeout: options.timeout } : {}) }).catch(async (error: unknown) => {
    const at = step && `step ${step.index + 1}/${step.total} (${step.op}${step.detail ? ` ${step.detail}` : ""})`;
    throw await describeLostNode(root, error, { ...before, ...(at ? { step: at } : {}) });
  });
}
