/**
 * `relup start`: make a release root ready (on an empty root, unpack the release as the first permanent
 * one) and start its launcher, in this process or detached.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { ExitCode, UserError } from "../errors.ts";
import { readRelease } from "../release/read-release.ts";
import { controlSocketPath, rawRequest } from "./control-client.ts";
import type { Ready } from "./launcher.ts";
import { readBootable } from "./read-bootable.ts";
import { unpackIntoRoot, writeReleasesFile } from "./releases-file.ts";
import { entryArgs } from "./entry-args.ts";
import { APPEND_NOFOLLOW, openNoFollow } from "./root-trust.ts";

/** Unpack `source` as the first permanent release of an empty root, or check it matches the root. */
export async function prepareRoot(root: string, source: string | undefined): Promise<{ name: string; version: string; installed: boolean }> {
  const bootable = await readBootable(root);
  if (bootable) {
    const { releases, version } = bootable;
    if (source !== undefined) {
      const given = await readRelease(source);
      await given.close();
      if (given.release.version !== version || given.release.name !== releases.name) {
        throw new UserError(`${root}: already holds ${releases.name} ${version} as its permanent release; \`start\` boots that one. Fix: leave out the release argument, or upgrade with \`relup apply\`.`, ExitCode.badInput);
      }
    }
    return { name: releases.name, version, installed: false };
  }
  if (source === undefined) throw new UserError(`${root}: holds no release yet. Fix: give the release to install: \`relup start <release dir or tarball> --root ${root}\`.`, ExitCode.badInput);
  const { loaded } = await unpackIntoRoot(root, source, () => true);
  await writeReleasesFile(root, { format: 1, name: loaded.release.name, releases: [{ version: loaded.release.version, status: "permanent", identity: loaded.identity }] });
  return { name: loaded.release.name, version: loaded.release.version, installed: true };
}

/** Whether a node answers on the root's control socket. */
export async function nodeIsRunning(root: string): Promise<boolean> {
  if (!existsSync(controlSocketPath(root))) return false;
  return rawRequest(controlSocketPath(root), JSON.stringify({ cmd: "ping" }), 2_000).then(
    () => true,
    () => false,
  );
}

/** Start a launcher that outlives this process; resolves once its node is ready. */
export async function startDetached(root: string, options: { heartbeatTimeoutMs?: number; bootTimeoutMs?: number } = {}): Promise<Ready & { launcherPid: number }> {
  const logDir = path.join(root, "log");
  await mkdir(logDir, { recursive: true });
  const out = openNoFollow(path.join(logDir, "launcher.out"), APPEND_NOFOLLOW);
  const child = spawn(process.execPath, [...entryArgs("launcher-main"), "--root", root, ...(options.heartbeatTimeoutMs !== undefined ? ["--heartbeat-timeout", String(options.heartbeatTimeoutMs)] : []), ...(options.bootTimeoutMs !== undefined ? ["--boot-timeout", String(options.bootTimeoutMs)] : [])], { detached: true, stdio: ["ignore", out, out, "ipc"] });
  return new Promise((resolve, reject) => {
    child.on("message", (message: { type: string; error?: string; exitCode?: ExitCode } & Ready & { launcherPid: number }) => {
      child.disconnect();
      child.unref();
      if (message.type === "ready") resolve({ pid: message.pid, version: message.version, launcherPid: message.launcherPid });
      else {
        const error = message.error ?? "the node failed to boot";
        reject(new UserError(`${root}: ${error}${error.endsWith(".") ? "" : "."} See ${path.join(logDir, "launcher.jsonl")} and node.jsonl.`, message.exitCode ?? ExitCode.checkFailed));
      }
    });
    child.on("exit", (code) => reject(new UserError(`${root}: the launcher exited (code ${code}) before the node was ready. See ${path.join(logDir, "launcher.out")}.`, ExitCode.checkFailed)));
  });
}
