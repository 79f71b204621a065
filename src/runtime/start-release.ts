/**
 * `relup start`: make a release root ready (on an empty root, unpack the release as the first permanent
 * one) and start its launcher, in this process or detached.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { ExitCode, UserError } from "../errors.ts";
import { RuntimeError } from "./issues/runtime-error.ts";
import { readRelease } from "../release/read-release.ts";
import { controlSocketPath, rawRequest } from "./control-client.ts";
import { Launcher, type Ready } from "./launcher.ts";
import { readBootable } from "./read-bootable.ts";
import { releasesFilePath, unpackIntoRoot, writeReleasesFile } from "./releases-file.ts";
import { entryArgs } from "./entry-args.ts";
import { checkNodeOptions } from "./node-options.ts";
import { APPEND_NOFOLLOW, assertRootTrusted, createRootDirectories, openNoFollow, removeCreatedDirectories } from "./root-trust.ts";
import { StagingError } from "./staged-file.ts";
import { controlRequest } from "./control-client.ts";
import type { FleetConfig } from "../fleet/fleet-config.ts";
import { fleetArgs } from "../fleet/fleet-args.ts";
import { startMembership, type Membership } from "../fleet/start-membership.ts";

/** What preparing a root did: the release it boots, and whether that start installed it (and placed its directory). */
export interface Prepared {
  name: string;
  version: string;
  installed: boolean;
  /** the release directory this start unpacked (not one it found there and reused) */
  placedDir?: string;
}

/** Unpack `source` as the first permanent release of an empty root, or check it matches the root. */
export async function prepareRoot(root: string, source: string | undefined): Promise<Prepared> {
  const bootable = await readBootable(root);
  if (bootable) {
    const { releases, version } = bootable;
    if (source !== undefined) {
      const given = await readRelease(source);
      await given.close();
      if (given.release.version !== version || given.release.name !== releases.name) {
        throw new RuntimeError({ kind: "already-permanent", root, release: releases.name, version });
      }
    }
    return { name: releases.name, version, installed: false };
  }
  if (source === undefined) throw new RuntimeError({ kind: "empty-root", root });
  const { loaded, placed } = await unpackIntoRoot(root, source, () => true);
  try {
    await writeReleasesFile(root, { format: 1, name: loaded.release.name, releases: [{ version: loaded.release.version, status: "permanent", identity: loaded.identity }] });
  } catch (error) {
    // No RELEASES, no release: the root stays empty, and the start can be run again as it was.
    if (placed) await rm(loaded.dir, { recursive: true, force: true });
    if (!(error instanceof StagingError)) throw error;
    throw new UserError(`${error.message}: the release was not installed. Fix: ${error.fix}, then run \`relup start\` again.`, ExitCode.checkFailed);
  }
  return { name: loaded.release.name, version: loaded.release.version, installed: true, ...(placed ? { placedDir: loaded.dir } : {}) };
}

/**
 * A first boot that failed leaves the root as the start found it: RELEASES and the release directory the
 * start unpacked are removed (the logs stay, they say why), so `relup start <release>` can be run again
 * once the boot is fixed, instead of a root whose permanent release cannot boot.
 */
async function undoFirstInstall(root: string, prepared: Prepared): Promise<void> {
  await rm(releasesFilePath(root), { force: true });
  if (prepared.placedDir !== undefined) await rm(prepared.placedDir, { recursive: true, force: true });
}

export interface StartOptions {
  root: string;
  /** the release to install as the first permanent one of an empty root */
  release?: string;
  /**
   * with `release`: install it only if the root holds no release, and otherwise boot the root's permanent
   * release whatever its version (`relup start --initial`: one command that works before and after upgrades)
   */
  initial?: boolean;
  heartbeatTimeoutMs?: number;
  bootTimeoutMs?: number;
  /** V8/Node flags for the node (and every node the launcher restarts), checked against node-options.ts */
  nodeOptions?: readonly string[];
  /** the environment of the launcher and its node (default: this process's) */
  env?: NodeJS.ProcessEnv;
  /** register the node in its fleet group on etcd (relup start --fleet; src/fleet) */
  fleet?: FleetConfig;
}

/** What a start did: the release it booted, whether it installed it first, and the node's pid. */
export interface Started extends Ready {
  name: string;
  installed: boolean;
}

/**
 * `relup start` as a library call: check the root (refused if another user could write it), make its
 * directories when there is a release to install, refuse a root whose node already runs, install the
 * release on an empty root, then start the launcher: detached (resolves with its pid once the node is
 * ready) or in this process (resolves with the running launcher).
 */
export async function startRelease(options: StartOptions & { detach: true }): Promise<Started & { launcherPid: number }>;
export async function startRelease(options: StartOptions & { detach: false }): Promise<Started & { launcher: Launcher; membership?: Membership }>;
export async function startRelease(options: StartOptions & { detach: boolean }): Promise<Started & ({ launcherPid: number } | { launcher: Launcher; membership?: Membership })> {
  const root = path.resolve(options.root);
  // Before anything is read or written there: a root another user can write is refused (exit 2).
  assertRootTrusted(root);
  // A flag the node may not be given is refused before anything is written or started.
  const nodeOptions = checkNodeOptions(options.nodeOptions ?? []);
  // A release to install: make the root's directories so that it passes this check under any umask.
  const created = options.release !== undefined ? createRootDirectories(root) : [];
  if (await nodeIsRunning(root)) {
    const status = await controlRequest(root, { cmd: "status" }, { timeout: 5_000 }).catch(() => undefined);
    if (status && status.launcherPid === null) {
      throw new UserError(`${root}: a node is running there without its launcher (pid ${status.pid}, ${status.release.name} ${status.release.version}): its launcher was killed, so nothing restarts this node, and it is in no fleet group; a new launcher cannot take a running node over. Fix: \`relup stop --root ${root}\` (its in-memory state is lost), then start it again.`, ExitCode.checkFailed);
    }
    throw new UserError(`${root}: a node is already running there. Fix: \`relup status --root ${root}\`, or stop it first.`, ExitCode.checkFailed);
  }
  const installing = options.initial === true && (await readBootable(root)) !== undefined ? undefined : options.release;
  // A start refused before the install (a missing or bad release) leaves no directory it made.
  const prepared = await prepareRoot(root, installing).catch((error: unknown) => {
    removeCreatedDirectories(created);
    throw error;
  });
  const timeouts = { ...(options.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: options.heartbeatTimeoutMs } : {}), ...(options.bootTimeoutMs !== undefined ? { bootTimeoutMs: options.bootTimeoutMs } : {}), nodeOptions };
  const env = options.env !== undefined ? { env: options.env } : {};
  const started = { name: prepared.name, installed: prepared.installed };
  const fleet = options.fleet !== undefined ? { fleet: options.fleet } : {};
  try {
    if (options.detach) return { ...started, ...(await startDetached(root, { ...timeouts, ...env, ...fleet })) };
    const launcher = new Launcher({ root, ...timeouts, ...env });
    // Joined before the node boots: a wrong endpoint or a taken id fails the start with nothing running.
    const membership = options.fleet !== undefined ? await startMembership(root, options.fleet) : undefined;
    membership?.attach(launcher);
    const ready = await launcher.start().catch(async (error: unknown) => {
      await membership?.stop();
      throw error;
    });
    return { ...started, ...ready, launcher, ...(membership ? { membership } : {}) };
  } catch (error) {
    if (!prepared.installed) throw error;
    await undoFirstInstall(root, prepared);
    const message = (error as Error).message;
    const kept = `${message}${/[.!]$/.test(message) ? "" : "."} ${prepared.name} ${prepared.version} was not kept: ${root} has no release again; fix the boot, then run \`relup start <release dir or tarball> --root ${root}\` again.`;
    throw new UserError(kept, error instanceof UserError ? error.exitCode : ExitCode.checkFailed);
  }
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
export async function startDetached(root: string, options: { heartbeatTimeoutMs?: number; bootTimeoutMs?: number; nodeOptions?: readonly string[]; env?: NodeJS.ProcessEnv; fleet?: FleetConfig } = {}): Promise<Ready & { launcherPid: number }> {
  const logDir = path.join(root, "log");
  await mkdir(logDir, { recursive: true });
  const out = openNoFollow(path.join(logDir, "launcher.out"), APPEND_NOFOLLOW);
  const child = spawn(process.execPath, [...entryArgs("launcher-main"), "--root", root, ...(options.heartbeatTimeoutMs !== undefined ? ["--heartbeat-timeout", String(options.heartbeatTimeoutMs)] : []), ...(options.bootTimeoutMs !== undefined ? ["--boot-timeout", String(options.bootTimeoutMs)] : []), ...checkNodeOptions(options.nodeOptions ?? []).map((flag) => `--node-option=${flag}`), ...fleetArgs(options.fleet)], { detached: true, stdio: ["ignore", out, out, "ipc"], env: options.env ?? process.env });
  // The launcher has its own copy of the log's descriptor.
  closeSync(out);
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
