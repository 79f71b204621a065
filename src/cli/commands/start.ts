import path from "node:path";
import type { CommandModule } from "yargs";
import { ExitCode, UserError } from "../../errors.ts";
import { DEFAULT_BOOT_TIMEOUT, DEFAULT_HEARTBEAT_TIMEOUT } from "../../runtime/launcher.ts";
import { startRelease } from "../../runtime/start-release.ts";
import type { CliRun } from "../cli-run.ts";
import type { Io } from "../io.ts";
import { onInterrupt } from "../../interrupt.ts";
import { parseTimeout } from "../parse-timeout.ts";
import { ALLOWED_NODE_OPTIONS, checkNodeOptions } from "../../runtime/node-options.ts";
import { DEFAULT_LEASE_TTL_S, fleetConfig } from "../../fleet/fleet-config.ts";
import { readTrustedKeys } from "../../fleet/signing-keys.ts";

interface StartArgs {
  release?: string;
  initial?: string;
  root: string;
  detach: boolean;
  heartbeatTimeout: number;
  bootTimeout: number;
  nodeOption: string[];
  fleet?: string;
  group?: string;
  nodeId?: string;
  fleetLeaseTtl?: number;
  trustedKey?: string[];
}

export function startCommand(io: Io, run: CliRun): CommandModule<object, StartArgs> {
  return {
    command: "start [release]",
    describe: "Boot a release with its launcher, which restarts the node if it dies (on an empty root, installs the release first)",
    builder: (y) =>
      y
        .positional("release", { type: "string", describe: "A release directory or .tar.gz; needed only for an empty root" })
        .option("initial", { type: "string", conflicts: "release", describe: "A release directory or .tar.gz to install if the root holds no release; a root that holds releases boots its permanent one (one start command for before and after upgrades)" })
        .option("root", { type: "string", default: "relup-root", describe: "The release root: releases, RELEASES, logs, control socket" })
        .option("detach", { type: "boolean", default: false, describe: "Return once the node is ready, printing its OS pid" })
        .option("heartbeat-timeout", { type: "number", default: DEFAULT_HEARTBEAT_TIMEOUT, describe: "Kill and restart (on the permanent release) a node that answers its launcher's heartbeat for none of this many ms: its event loop is stuck" })
        .option("boot-timeout", { type: "number", default: DEFAULT_BOOT_TIMEOUT, describe: "Kill a node that is not ready this many ms after it was started (the start fails, a restart is retried, a restart_new_emulator takeover is aborted); also how long an application's start may take during an install" })
        .option("node-option", { type: "string", array: true, default: [], describe: `A V8/Node flag for the node, and for every node the launcher restarts (repeatable; \`--node-option --max-old-space-size=4096\`). Allowed: ${ALLOWED_NODE_OPTIONS.join(", ")}` })
        .option("fleet", { type: "string", describe: "etcd's client URLs (comma-separated): register the node in its group there, under a lease, for as long as its launcher runs (docs/fleet.md)" })
        .option("group", { type: "string", describe: "With --fleet: the node's group (the nodes that run the same release)" })
        .option("node-id", { type: "string", describe: "With --fleet: the node's id in its group (default: the host name and a digest of the root, the same across restarts)" })
        .option("fleet-lease-ttl", { type: "number", describe: `With --fleet: seconds after which a node whose launcher stopped renewing its lease leaves the group (default ${DEFAULT_LEASE_TTL_S})` })
        .option("trusted-key", { type: "string", array: true, describe: "With --fleet: a public key (.pub) or a directory of them (repeatable); the node agent then refuses a desired release that is not signed by one of them" })
        .example("$0 start _build/calculator-1.0.0.tar.gz --root /srv/calc --detach", "install and boot calculator 1.0.0 in the background")
        .example("$0 start --initial _build/calculator-1.0.0.tar.gz --root /srv/calc", "install 1.0.0 on the first start; later starts boot the permanent release")
        .example("$0 start --root /srv/calc --detach --fleet http://etcd:2379 --group calc", "boot it as a member of the fleet group calc") as never,
    handler: async (argv) => {
      const heartbeatTimeoutMs = parseTimeout("--heartbeat-timeout", argv.heartbeatTimeout);
      const bootTimeoutMs = parseTimeout("--boot-timeout", argv.bootTimeout);
      const nodeOptions = checkNodeOptions(argv.nodeOption.map(String));
      if (argv.fleet === undefined && (argv.group !== undefined || argv.nodeId !== undefined || argv.fleetLeaseTtl !== undefined || argv.trustedKey !== undefined)) throw new UserError("--group, --node-id, --fleet-lease-ttl and --trusted-key belong to --fleet. Fix: add `--fleet <etcd endpoints>`, or leave them out.", ExitCode.badInput);
      const fleet = argv.fleet !== undefined ? fleetConfig({ root: argv.root, fleet: argv.fleet, group: argv.group, nodeId: argv.nodeId, leaseTtl: argv.fleetLeaseTtl, trustedKeys: (argv.trustedKey ?? []).map(String) }) : undefined;
      // A key file that cannot be used fails the start here (exit 2), before anything runs.
      if (fleet?.trustedKeys?.length) await readTrustedKeys(fleet.trustedKeys);
      const release = argv.release ?? argv.initial;
      const options = { root: argv.root, ...(release !== undefined ? { release, initial: argv.initial !== undefined } : {}), heartbeatTimeoutMs, bootTimeoutMs, nodeOptions, env: run.env, ...(fleet ? { fleet } : {}) };
      const installed = (r: { name: string; version: string; installed: boolean }) => {
        if (r.installed) io.err(`installed ${r.name} ${r.version} in ${path.resolve(argv.root)} as the permanent release\n`);
        else if (argv.initial !== undefined) io.err(`${path.resolve(argv.root)} holds releases: booting its permanent one (--initial installs only into an empty root)\n`);
      };
      if (argv.detach) {
        const started = await startRelease({ ...options, detach: true });
        installed(started);
        io.out(`${started.pid}\n`);
        io.err(`started ${started.name} ${started.version}: node pid ${started.pid}, launcher pid ${started.launcherPid}; logs in ${path.join(path.resolve(argv.root), "log")}\n`);
        return;
      }
      const started = await startRelease({ ...options, detach: false });
      installed(started);
      const { launcher } = started;
      io.err(`started ${started.name} ${started.version}: node pid ${started.pid}; Ctrl-C stops it\n`);
      launcher.on("restart", ({ delayMs }) => io.err(`node exited; restarting in ${delayMs} ms\n`));
      launcher.on("ready", (r: { pid: number }) => io.err(`node ready again: pid ${r.pid}\n`));
      const forget = onInterrupt(() => void launcher.stop());
      if (started.membership) io.err(`registered as ${started.membership.member.record.id} in fleet group ${started.membership.member.record.group}\n`);
      await new Promise<void>((resolve) => launcher.once("stopped", resolve)).finally(forget);
      await started.membership?.stop();
      // The node died and the root can no longer boot (RELEASES): the launcher gave up, and says why.
      if (launcher.failure) throw new UserError(`cannot restart the node: ${launcher.failure}`, ExitCode.badInput);
      io.err("stopped\n");
    },
  };
}
