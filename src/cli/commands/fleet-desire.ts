/** `relup fleet desire`: set a group's desired release (desire-release.ts) and wait for its nodes to converge. */
import type { CommandModule } from "yargs";
import { ExitCode, UserError } from "../../errors.ts";
import { desiredFromStore, nodeOutcome, parseReleaseRef, waitForGroup, writeDesired } from "../../fleet/desire-release.ts";
import { desiredKey } from "../../fleet/desired-record.ts";
import { withEtcd } from "../../fleet/etcd-client.ts";
import { checkFleetName, parseEndpoints } from "../../fleet/fleet-config.ts";
import type { Io } from "../io.ts";
import { renderFleetStatus } from "../views/fleet-status-view.ts";

interface DesireArgs {
  release: string;
  plan: string;
  store: string;
  signatureUrl?: string;
  fleet: string;
  group: string;
  yes: boolean;
  wait: boolean;
  timeout: number;
  json: boolean;
}

export function fleetDesireCommand(io: Io): CommandModule<object, DesireArgs> {
  return {
    command: "desire <release>",
    describe: "Set the release a fleet group's nodes converge to (published in the store), and wait until each runs it or failed",
    builder: (y) =>
      y
        .positional("release", { type: "string", demandOption: true, describe: "The published release: NAME@VERSION, or its tarball's file name (calculator-1.1.0.tar.gz)" })
        .option("plan", { type: "string", demandOption: true, describe: "The reviewed plan the nodes install it with: a file (written into etcd) or a URL the nodes fetch it from" })
        .option("store", { type: "string", demandOption: true, describe: "The release store it was published to (file://, http(s)://): its .published.json gives the sha256 and identity the nodes pin" })
        .option("signature-url", { type: "string", describe: "The signature's URL, when it is not beside the tarball" })
        .option("fleet", { type: "string", demandOption: true, describe: "etcd's client URLs, comma-separated" })
        .option("group", { type: "string", demandOption: true, describe: "The group" })
        .option("yes", { type: "boolean", default: false, describe: "Do not ask before writing the desired release" })
        .option("wait", { type: "boolean", default: true, describe: "Wait for every node's report (--no-wait: write and return)" })
        .option("timeout", { type: "number", default: 600, describe: "Seconds to wait for the nodes' reports (exit 1 when some have not answered)" })
        .option("json", { type: "boolean", default: false, describe: "Print {desired, nodes, timedOut} as JSON" })
        .example("$0 fleet desire calculator@1.1.0 --plan plans/1.0.0-1.1.0.json --store file:///srv/releases --fleet http://etcd:2379 --group calc --yes", "") as never,
    handler: async (argv) => {
      const endpoints = parseEndpoints(argv.fleet);
      const group = checkFleetName("--group", argv.group);
      if (!Number.isFinite(argv.timeout) || argv.timeout <= 0) throw new UserError(`--timeout must be a positive number of seconds, not ${String(argv.timeout)}. Fix: \`--timeout 600\`.`, ExitCode.badInput);
      const release = parseReleaseRef(argv.release);
      const desired = await desiredFromStore({ release, store: argv.store, plan: argv.plan, ...(argv.signatureUrl !== undefined ? { signatureUrl: argv.signatureUrl } : {}) });
      if (!argv.yes) {
        if (!io.ask) throw new UserError(`this sets the release of every node of group ${group}. Fix: pass --yes to confirm.`, ExitCode.badInput);
        const answer = await io.ask(`Set ${release.name} ${release.version} (sha256 ${desired.release.sha256.slice(0, 16)}…) as the release of every node of group ${group}? [y/N] `);
        if (!/^y(es)?$/i.test(answer.trim())) throw new UserError("not written: not confirmed", ExitCode.checkFailed);
      }
      await withEtcd(endpoints, async (client) => {
        const written = await writeDesired(client, group, desired);
        io.err(`${desiredKey(group)}: ${release.name} ${release.version}, generation ${written.generation}\n`);
        if (!argv.wait) {
          if (argv.json) io.out(JSON.stringify({ desired: written }, null, 2) + "\n");
          return;
        }
        // Each node's report as it changes, on stderr (stdout gets the final table or JSON).
        const seen = new Map<string, string>();
        const { listing, timedOut } = await waitForGroup(client, group, written, {
          timeoutMs: argv.timeout * 1000,
          change: (l) => {
            for (const node of l.nodes) {
              const line = `${node.id}: ${node.status}${node.release ? ` (runs ${node.release.version})` : ""}`;
              if (seen.get(node.id) !== line) io.err(`${line}\n`);
              seen.set(node.id, line);
            }
          },
        });
        const failed = listing.nodes.filter((n) => nodeOutcome(n, written) === "failed");
        const pending = listing.nodes.filter((n) => nodeOutcome(n, written) === "pending");
        if (argv.json) io.out(JSON.stringify({ desired: written, nodes: listing.nodes, unreadable: listing.unreadable, timedOut }, null, 2) + "\n");
        else io.out(renderFleetStatus(listing));
        if (failed.length > 0 || timedOut) {
          const parts = [failed.length > 0 ? `${failed.length} node${failed.length === 1 ? "" : "s"} failed (${failed.map((n) => n.id).join(", ")}); they run on their release` : "", timedOut ? `${pending.length} did not report within ${argv.timeout} s (${pending.map((n) => n.id).join(", ")})` : ""].filter(Boolean);
          throw new UserError(`${release.name} ${release.version} in group ${group}: ${parts.join("; ")}`, ExitCode.checkFailed);
        }
        io.err(`${listing.nodes.length} node${listing.nodes.length === 1 ? "" : "s"} of group ${group} run ${release.name} ${release.version}\n`);
      });
    },
  };
}
