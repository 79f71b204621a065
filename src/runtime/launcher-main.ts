/**
 * The entry point of a detached launcher (`relup start --detach`): runs a Launcher for ROOT, reports
 * the first `ready` (or the boot failure) to the parent over IPC, and lives until the node is stopped.
 */
import { rmSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { Launcher } from "./launcher.ts";
import { WRITE_NOFOLLOW } from "./root-trust.ts";
import { ExitCode, UserError } from "../errors.ts";
import { FLEET_ARG_OPTIONS, fleetConfigFromArgs } from "../fleet/fleet-args.ts";
import { startMembership, type Membership } from "../fleet/start-membership.ts";

const { values } = parseArgs({ options: { root: { type: "string" }, "heartbeat-timeout": { type: "string" }, "boot-timeout": { type: "string" }, "node-option": { type: "string", multiple: true }, ...FLEET_ARG_OPTIONS } });
const fleet = fleetConfigFromArgs(values);
let membership: Membership | undefined;
const heartbeat = values["heartbeat-timeout"];
const boot = values["boot-timeout"];
const launcher = new Launcher({ root: values.root!, ...(heartbeat !== undefined ? { heartbeatTimeoutMs: Number(heartbeat) } : {}), ...(boot !== undefined ? { bootTimeoutMs: Number(boot) } : {}), nodeOptions: values["node-option"] ?? [] });
const tell = (message: object) => {
  if (process.connected) process.send?.(message);
};

// stdout and stderr are log/launcher.out: a write a full disk refuses is lost, never fatal.
process.stdout.on("error", () => undefined);
process.stderr.on("error", () => undefined);
process.on("SIGTERM", () => void launcher.stop());
process.on("SIGINT", () => void launcher.stop());
try {
  // Joined before the node boots (start-release.ts says why); left before this process exits.
  if (fleet) membership = await startMembership(launcher.root, fleet);
  membership?.attach(launcher);
  const ready = await launcher.start();
  // Never through a link planted in run/: the pid would overwrite whatever it points to. Without its
  // pid file (a full disk) nothing could find this launcher: the node is stopped and the start fails.
  await writeFile(path.join(launcher.root, "run", "launcher.pid"), `${process.pid}\n`, { flag: WRITE_NOFOLLOW, mode: 0o644 }).catch(async (error: Error) => {
    await launcher.stop();
    // A part written before the disk filled is no pid at all.
    await rm(path.join(launcher.root, "run", "launcher.pid"), { force: true }).catch(() => undefined);
    throw new UserError(`${path.join(launcher.root, "run", "launcher.pid")} could not be written (${error.message}), so the node was stopped. Fix: free space on the file system of ${launcher.root}, then start again`, ExitCode.checkFailed);
  });
  // Only once the node is up: a failed boot also stops the launcher, and must be told first (below).
  launcher.on("stopped", async () => {
    await membership?.stop();
    rmSync(path.join(launcher.root, "run", "launcher.pid"), { force: true });
    // A launcher that gave up (the root cannot boot) says why on stderr (launcher.out) and exits 1.
    if (launcher.failure) process.stderr.write(`${new Date().toISOString()} cannot restart the node: ${launcher.failure}\n`);
    process.exit(launcher.failure ? 1 : 0);
  });
  tell({ type: "ready", ...ready, launcherPid: process.pid });
} catch (error) {
  await membership?.stop();
  // launcher.out (this process's stderr) says why too, next to launcher.jsonl.
  process.stderr.write(`${new Date().toISOString()} ${(error as Error).message}\n`);
  tell({ type: "failed", error: (error as Error).message, exitCode: error instanceof UserError ? error.exitCode : ExitCode.checkFailed });
  process.exitCode = 1;
  // Exit once the message is out, so that the parent reads it before it sees the exit.
  if (process.connected) process.disconnect();
}
