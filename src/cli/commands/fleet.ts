/** `relup fleet <command>`: the commands for many nodes, one module each (fleet-*.ts). */
import type { CommandModule } from "yargs";
import type { Io } from "../io.ts";
import { fleetDesireCommand } from "./fleet-desire.ts";
import { fleetPublishCommand } from "./fleet-publish.ts";
import { fleetRolloutCommand } from "./fleet-rollout.ts";
import { fleetStatusCommand } from "./fleet-status.ts";

export function fleetCommand(io: Io): CommandModule {
  return {
    command: "fleet <command>",
    describe: "Many nodes, one release: publish releases to a store, list a group's nodes, set the release they converge to (docs/fleet.md)",
    builder: (y) =>
      y
        .command(fleetPublishCommand(io))
        .command(fleetStatusCommand(io))
        .command(fleetDesireCommand(io))
        .command(fleetRolloutCommand(io))
        .demandCommand(1, "Name a fleet command; `relup fleet --help` lists them.")
        .example("$0 fleet publish _build/calculator-1.1.0.tar.gz --store file:///srv/releases", "publish a release (and its signature) for the nodes to fetch")
        .example("$0 fleet desire calculator@1.1.0 --plan plans/1.0.0-1.1.0.json --store file:///srv/releases --fleet http://etcd:2379 --group calc --yes", "every node of group calc installs it live and reports")
        .example("$0 fleet rollout calculator@1.1.0 --plan plans/1.0.0-1.1.0.json --store file:///srv/releases --fleet http://etcd:2379 --group calc --canary 1 --soak 5m --yes", "canary first, then waves of 25%, each soaked; a regression reverts"),
    handler: () => undefined,
  };
}
