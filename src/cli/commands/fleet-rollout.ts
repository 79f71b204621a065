/** `relup fleet rollout`: roll a published release across a group in waves, with canary, soak and automatic revert (src/fleet/rollout/). */
import type { CommandModule } from "yargs";
import { ExitCode, UserError } from "../../errors.ts";
import { desiredFromStore, parseReleaseRef } from "../../fleet/desire-release.ts";
import { withEtcd } from "../../fleet/etcd-client.ts";
import { checkFleetName, parseEndpoints } from "../../fleet/fleet-config.ts";
import type { RolloutRecord } from "../../fleet/rollout-record.ts";
import { waveName } from "../../fleet/rollout/drive-rollout.ts";
import { parseDuration } from "../../fleet/rollout/parse-duration.ts";
import { parseWaveSize } from "../../fleet/rollout/plan-waves.ts";
import { runRollout } from "../../fleet/rollout/run-rollout.ts";
import type { Io } from "../io.ts";
import { renderRollout } from "../views/rollout-view.ts";

interface RolloutArgs {
  release?: string;
  plan?: string;
  store?: string;
  signatureUrl?: string;
  fleet: string;
  group: string;
  canary: number;
  soak: string;
  waves: string;
  maxUnavailable: number;
  barrier: boolean;
  barrierTimeout: string;
  deadline: string;
  healthPath?: string;
  loopSlack: string;
  yes: boolean;
  resume: boolean;
  json: boolean;
  timeout: string;
}

export function fleetRolloutCommand(io: Io): CommandModule<object, RolloutArgs> {
  return {
    command: "rollout [release]",
    describe: "Roll a published release across a group: canary first, then waves, each soaked and compared with its health before; a regression reverts every upgraded node",
    builder: (y) =>
      y
        .positional("release", { type: "string", describe: "The published release: NAME@VERSION, or its tarball's file name (not with --resume)" })
        .option("plan", { type: "string", describe: "The reviewed plan the nodes install it with: a file (written into etcd) or a URL" })
        .option("store", { type: "string", describe: "The release store it was published to (file://, http(s)://)" })
        .option("signature-url", { type: "string", describe: "The signature's URL, when it is not beside the tarball" })
        .option("fleet", { type: "string", demandOption: true, describe: "etcd's client URLs, comma-separated" })
        .option("group", { type: "string", demandOption: true, describe: "The group" })
        .option("canary", { type: "number", default: 1, describe: "Nodes in the first wave, the canary (0: none)" })
        .option("soak", { type: "string", default: "5m", describe: "How long each wave runs, watched, before the next (5m, 30s, 1500ms)" })
        .option("waves", { type: "string", default: "25%", describe: "The size of each wave after the canary: a node count, or a share of the group (25%)" })
        .option("max-unavailable", { type: "number", default: 0, describe: "Nodes of the group that may be gone or restarting before the rollout reverts" })
        .option("barrier", { type: "boolean", default: false, describe: "Each wave's nodes prepare and hold before the point of no return, then go together (or all abort)" })
        .option("barrier-timeout", { type: "string", default: "60s", describe: "How long a barrier waits for every node of the wave to prepare" })
        .option("deadline", { type: "string", default: "10m", describe: "With no driver for this long (this command gone, not resumed), the nodes revert the rollout by themselves" })
        .option("health-path", { type: "string", describe: "An HTTP path each node's agent GETs on the node's port during the soak (/healthz); a failure is a regression" })
        .option("loop-slack", { type: "string", default: "50ms", describe: "The soak's event-loop slack: p99 above max(2 × baseline, baseline + this) in two reads in a row is a regression" })
        .option("yes", { type: "boolean", default: false, describe: "Do not show the waves and ask before starting" })
        .option("resume", { type: "boolean", default: false, describe: "Drive the group's rollout on from where it is (after this command was stopped); waits for the lock" })
        .option("json", { type: "boolean", default: false, describe: "Print the final {rollout, nodes} as JSON" })
        .option("timeout", { type: "string", default: "10m", describe: "How long a wave's nodes have to report their install (and the revert, and permanence)" })
        .example("$0 fleet rollout calculator@1.1.0 --plan plans/1.0.0-1.1.0.json --store file:///srv/releases --fleet http://etcd:2379 --group calc --canary 1 --soak 5m --waves 25% --yes", "")
        .example("$0 fleet rollout --resume --fleet http://etcd:2379 --group calc", "drive the group's rollout on after its command was stopped") as never,
    handler: async (argv) => {
      const endpoints = parseEndpoints(argv.fleet);
      const group = checkFleetName("--group", argv.group);
      const timeoutMs = positive("--timeout", parseDuration("--timeout", argv.timeout));
      const soakMs = parseDuration("--soak", argv.soak);
      const barrierTimeoutMs = positive("--barrier-timeout", parseDuration("--barrier-timeout", argv.barrierTimeout));
      const deadlineMs = parseDuration("--deadline", argv.deadline);
      if (deadlineMs < 2000) throw new UserError(`--deadline ${argv.deadline} is too short. Fix: 2s at least (the time the nodes wait for a driver that is gone), e.g. \`--deadline 10m\`.`, ExitCode.badInput);
      const waves = parseWaveSize(argv.waves);
      const loopSlackMs = parseDuration("--loop-slack", argv.loopSlack);
      for (const [flag, value] of [["--canary", argv.canary], ["--max-unavailable", argv.maxUnavailable]] as const) {
        if (!Number.isInteger(value) || value < 0) throw new UserError(`${flag} must be a whole number of nodes, 0 or more, not ${Number.isNaN(value) ? "a number" : String(value)}. Fix: \`${flag} 1\`.`, ExitCode.badInput);
      }
      if (argv.healthPath !== undefined && !argv.healthPath.startsWith("/")) throw new UserError(`--health-path ${JSON.stringify(argv.healthPath)} is not a URL path. Fix: start it with /, e.g. \`--health-path /healthz\`.`, ExitCode.badInput);

      let start: Parameters<typeof runRollout>[0]["start"];
      if (argv.resume) {
        const given = (["release", "plan", "store"] as const).filter((k) => argv[k] !== undefined);
        if (given.length > 0) throw new UserError(`--resume drives the group's rollout as its record says; ${given.map((k) => (k === "release" ? "REL" : `--${k}`)).join(", ")} cannot be given with it. Fix: \`relup fleet rollout --resume --fleet … --group ${group}\`.`, ExitCode.badInput);
      } else {
        const missing = (["release", "plan", "store"] as const).filter((k) => argv[k] === undefined);
        if (missing.length > 0) throw new UserError(`a rollout needs ${missing.map((k) => (k === "release" ? "the release (NAME@VERSION)" : `--${k}`)).join(", ")}. Fix: \`relup fleet rollout calculator@1.1.0 --plan plans/1.0.0-1.1.0.json --store file:///srv/releases --fleet … --group ${group}\`, or \`--resume\` to drive the group's rollout on.`, ExitCode.badInput);
        if (!argv.yes && !io.ask) throw new UserError(`this upgrades every node of group ${group}, and nobody is there to confirm (stdin is not a terminal). Fix: pass --yes to start it without asking.`, ExitCode.badInput);
        const release = parseReleaseRef(argv.release!);
        const target = await desiredFromStore({ release, store: argv.store!, plan: argv.plan!, ...(argv.signatureUrl !== undefined ? { signatureUrl: argv.signatureUrl } : {}) });
        start = {
          target,
          options: { canary: argv.canary, soakMs, waves, maxUnavailable: argv.maxUnavailable, barrier: argv.barrier, barrierTimeoutMs, deadlineS: Math.ceil(deadlineMs / 1000), ...(argv.healthPath !== undefined ? { healthPath: argv.healthPath } : {}), loopSlackMs },
          confirm: async (record) => {
            if (argv.yes) return true;
            const lines = record.waves.map((w, i) => `  ${waveName(record, i)}: ${w.nodes.join(", ")}`);
            const answer = await io.ask!(`Roll ${record.release.name} ${record.from.version} → ${record.release.version} (sha256 ${record.release.sha256.slice(0, 16)}…) across group ${group} in ${record.waves.length} wave${record.waves.length === 1 ? "" : "s"}, soaking ${argv.soak} each:\n${lines.join("\n")}\nStart? [y/N] `);
            return /^y(es)?$/i.test(answer.trim());
          },
        };
      }

      const result = await withEtcd(endpoints, (client) =>
        runRollout({
          client,
          group,
          timeoutMs,
          ...(start ? { start } : {}),
          event: (line) => io.err(`${line}\n`),
          waveEnd: (record, _wave, nodes) => io.err(renderRollout(record, nodes)),
        }),
      );
      const record: RolloutRecord = result.record;
      io.out(argv.json ? JSON.stringify({ rollout: record, nodes: result.nodes, notPermanent: result.notPermanent }, null, 2) + "\n" : renderRollout(record, result.nodes));
      if (record.state !== "succeeded") throw new UserError(`rollout ${record.id} of ${record.release.name} ${record.release.version} in group ${group}: ${record.state}${record.reason ? `: ${record.reason}` : ""}`, ExitCode.checkFailed);
      if (result.notPermanent.length > 0) throw new UserError(`rollout ${record.id} succeeded, but ${result.notPermanent.join(", ")} did not report ${record.release.version} permanent within --timeout ${argv.timeout} (they boot the old release if restarted, then converge to the desired one)`, ExitCode.checkFailed);
    },
  };
}

function positive(flag: string, ms: number): number {
  if (ms <= 0) throw new UserError(`${flag} must be longer than 0. Fix: e.g. \`${flag} 60s\`.`, ExitCode.badInput);
  return ms;
}
