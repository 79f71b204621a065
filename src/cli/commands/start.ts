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

interface StartArgs {
  release?: string;
  initial?: string;
  root: string;
  detach: boolean;
  heartbeatTimeout: number;
  bootTimeout: number;
  nodeOption: string[];
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
        .example("$0 start _build/calculator-1.0.0.tar.gz --root /srv/calc --detach", "install and boot calculator 1.0.0 in the background")
        .example("$0 start --initial _build/calculator-1.0.0.tar.gz --root /srv/calc", "install 1.0.0 on the first start; later starts boot the permanent release") as never,
    handler: async (argv) => {
      const heartbeatTimeoutMs = parseTimeout("--heartbeat-timeout", argv.heartbeatTimeout);
      const bootTimeoutMs = parseTimeout("--boot-timeout", argv.bootTimeout);
      const nodeOptions = checkNodeOptions(argv.nodeOption.map(String));
      const release = argv.release ?? argv.initial;
      const options = { root: argv.root, ...(release !== undefined ? { release, initial: argv.initial !== undefined } : {}), heartbeatTimeoutMs, bootTimeoutMs, nodeOptions, env: run.env };
      const installed = (r: { name: string; version: string; installed: boolean }) => {
        if (r.installed) io.err(`installed ${r.name} ${r.version} in ${path.resolve(argv.root)} as the permanent release\n`);
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
      await new Promise<void>((resolve) => launcher.once("stopped", resolve)).finally(forget);
      // The node died and the root can no longer boot (RELEASES): the launcher gave up, and says why.
      if (launcher.failure) throw new UserError(`cannot restart the node: ${launcher.failure}`, ExitCode.badInput);
      io.err("stopped\n");
    },
  };
}
