/**
 * `relup stop`: stop the node of a root, then its launcher. Stopping what is stopped succeeds (deploys
 * that converge rerun it), but "not running" is said only when nothing will bring the node back: a
 * detached launcher still restarting a node that cannot boot is stopped too.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { RuntimeError } from "./issues/runtime-error.ts";
import { controlRequest, controlSocketPath, rawRequest } from "./control-client.ts";
import { assertRootTrusted } from "./root-trust.ts";
import { waitForExit } from "./process-exit.ts";
import { readReleasesFile } from "./releases-file.ts";

export type StopResult =
  | { kind: "stopped"; name: string; version: string; pid: number }
  /** no node answered; `launcherPid`: a launcher that was restarting it, now stopped */
  | { kind: "not-running"; name: string; launcherPid?: number };

export async function stopNode(root: string): Promise<StopResult> {
  // A run/ another user can write could name any pid in launcher.pid, to be sent SIGTERM.
  assertRootTrusted(root);
  const releases = await readReleasesFile(root);
  if (!releases) throw new RuntimeError({ kind: "no-release-in-root", root });
  if (await nodeAnswers(root)) {
    const status = await controlRequest(root, { cmd: "status" });
    const launcherPid = await liveLauncher(root);
    await controlRequest(root, { cmd: "stop" });
    await waitForExit(status.pid);
    // The launcher ends after its node (leaving its fleet group, closing its logs): the stop is done then.
    if (launcherPid !== undefined) await waitForExit(launcherPid);
    return { kind: "stopped", name: status.release.name, version: status.release.version, pid: status.pid };
  }
  const launcherPid = await liveLauncher(root);
  if (launcherPid === undefined) return { kind: "not-running", name: releases.name };
  // SIGTERM: the launcher stops the node it may be booting, then itself (src/runtime/launcher-main.ts).
  process.kill(launcherPid, "SIGTERM");
  if (!(await waitForExit(launcherPid))) throw new RuntimeError({ kind: "launcher-did-not-stop", root, pid: launcherPid, waitedMs: 30_000 });
  return { kind: "not-running", name: releases.name, launcherPid };
}

/** Whether a node listens on the root's control socket: no socket, or nobody behind it, is no node. */
function nodeAnswers(root: string): Promise<boolean> {
  return rawRequest(controlSocketPath(root), JSON.stringify({ cmd: "ping" }), 30_000).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      // Anything but "nobody there" (no answer in time): a node may be there; the stop request reports it.
      return !(error.code === "ENOENT" || error.code === "ECONNREFUSED");
    },
  );
}

/**
 * The detached launcher of this root, if it still runs: its pid file names a live process whose command
 * line is this root's launcher (a stale file's pid may have been reused by another process).
 */
async function liveLauncher(root: string): Promise<number | undefined> {
  const pid = Number((await readFile(path.join(root, "run", "launcher.pid"), "utf8").catch(() => "")).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let cmdline: string[];
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return undefined;
  }
  const isLauncher = cmdline.some((arg) => /launcher-main\.[jt]s$/.test(arg)) && cmdline.includes(root);
  return isLauncher ? pid : undefined;
}
