/** `relup fleet status`: the group's nodes as etcd has them (list-group.ts), and its rollout when there is one (read-rollout.ts). */
import type { CommandModule } from "yargs";
import { withEtcd } from "../../fleet/etcd-client.ts";
import { checkFleetName, parseEndpoints } from "../../fleet/fleet-config.ts";
import { groupListing } from "../../fleet/list-group.ts";
import { nodesPrefix } from "../../fleet/node-record.ts";
import { readRollout } from "../../fleet/rollout/read-rollout.ts";
import type { Io } from "../io.ts";
import { renderFleetStatus } from "../views/fleet-status-view.ts";
import { renderRollout } from "../views/rollout-view.ts";

interface FleetStatusArgs {
  fleet: string;
  group: string;
  json: boolean;
}

export function fleetStatusCommand(io: Io): CommandModule<object, FleetStatusArgs> {
  return {
    command: "status",
    describe: "The nodes of a fleet group (id, host, release, status, as registered in etcd) and its rollout: state, waves, each node's part",
    builder: (y) =>
      y
        .option("fleet", { type: "string", demandOption: true, describe: "etcd's client URLs, comma-separated" })
        .option("group", { type: "string", demandOption: true, describe: "The group" })
        .option("json", { type: "boolean", default: false, describe: "Print {group, nodes, unreadable, rollout} as JSON" })
        .example("$0 fleet status --fleet http://127.0.0.1:2379 --group calc", "") as never,
    handler: async (argv) => {
      const group = checkFleetName("--group", argv.group);
      // One snapshot: the rollout record is read at the revision the nodes were read at.
      const { listing, rollout } = await withEtcd(parseEndpoints(argv.fleet), async (client) => {
        const nodes = await client.getAll().prefix(nodesPrefix(group)).exec();
        const kvs = Object.fromEntries(nodes.kvs.map((kv) => [kv.key.toString(), kv.value.toString()]));
        return { listing: groupListing(group, kvs), rollout: await readRollout(client, group, nodes.header.revision) };
      });
      if (rollout.unreadable !== undefined) listing.unreadable.push({ key: rollout.unreadable.split(": ")[0]!, problem: rollout.unreadable.slice(rollout.unreadable.indexOf(": ") + 2) });
      if (argv.json) io.out(JSON.stringify({ ...listing, ...(rollout.record ? { rollout: rollout.record } : {}) }, null, 2) + "\n");
      else io.out(renderFleetStatus(listing) + (rollout.record ? "\n" + renderRollout(rollout.record, listing.nodes) : ""));
    },
  };
}
