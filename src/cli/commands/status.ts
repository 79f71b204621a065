import path from "node:path";
import type { CommandModule } from "yargs";
import { controlRequest } from "../../runtime/control-client.ts";
import { stopNode } from "../../runtime/stop-node.ts";
import type { Io } from "../io.ts";
import { renderProcesses, renderStatus, renderStop } from "../views/status-view.ts";

interface RootArgs {
  root: string;
  json: boolean;
}

const rootOptions = (y: import("yargs").Argv) =>
  y
    .option("root", { type: "string", default: "relup-root", describe: "The release root of the node" })
    .option("json", { type: "boolean", default: false, describe: "Print JSON" });

export function statusCommand(io: Io): CommandModule<object, RootArgs> {
  return {
    command: "status",
    describe: "What the node runs: release, OS pid, uptime, applications, module versions, processes, memory",
    builder: (y) => rootOptions(y).example("$0 status --root /srv/calc", "") as never,
    handler: async (argv) => {
      const status = await controlRequest(path.resolve(argv.root), { cmd: "status" });
      io.out(argv.json ? JSON.stringify(status, null, 2) + "\n" : renderStatus(status));
    },
  };
}

export function processesCommand(io: Io): CommandModule<object, RootArgs> {
  return {
    command: "processes",
    describe: "List the node's processes: pid, name, module, status, queue length",
    builder: (y) => rootOptions(y).example("$0 processes --root /srv/calc", "") as never,
    handler: async (argv) => {
      const list = await controlRequest(path.resolve(argv.root), { cmd: "processes" });
      io.out(argv.json ? JSON.stringify(list, null, 2) + "\n" : renderProcesses(list));
    },
  };
}

export function stopCommand(io: Io): CommandModule<object, { root: string }> {
  return {
    command: "stop",
    describe: "Stop the applications in reverse order, then the node and its launcher",
    builder: (y) => y.option("root", { type: "string", default: "relup-root", describe: "The release root of the node" }).example("$0 stop --root /srv/calc", "") as never,
    handler: async (argv) => {
      const root = path.resolve(argv.root);
      const result = await stopNode(root);
      io.out(renderStop(result, root));
    },
  };
}
