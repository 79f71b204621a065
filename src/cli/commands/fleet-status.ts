/** `relup fleet status`: the group's nodes as etcd has them (list-group.ts). */
import type { CommandModule } from "yargs";
import { checkFleetName, parseEndpoints } from "../../fleet/fleet-config.ts";
import { listGroup } from "../../fleet/list-group.ts";
import type { Io } from "../io.ts";
import { renderFleetStatus } from "../views/fleet-status-view.ts";

interface FleetStatusArgs {
  fleet: string;
  group: string;
  json: boolean;
}

export function fleetStatusCommand(io: Io): CommandModule<object, FleetStatusArgs> {
  return {
    command: "status",
    describe: "The nodes of a fleet group: id, host, release, status, as registered in etcd",
    builder: (y) =>
      y
        .option("fleet", { type: "string", demandOption: true, describe: "etcd's client URLs, comma-separated" })
        .option("group", { type: "string", demandOption: true, describe: "The group" })
        .option("json", { type: "boolean", default: false, describe: "Print {group, nodes, unreadable} as JSON" })
        .example("$0 fleet status --fleet http://127.0.0.1:2379 --group calc", "") as never,
    handler: async (argv) => {
      const listing = await listGroup(parseEndpoints(argv.fleet), checkFleetName("--group", argv.group));
      io.out(argv.json ? JSON.stringify(listing, null, 2) + "\n" : renderFleetStatus(listing));
    },
  };
}
