/** `relup processes`: one call to the node (release-client.ts). */
import type { CommandModule } from "yargs";
import { nodeProcesses } from "../../runtime/release-client.ts";
import type { Io } from "../io.ts";
import { renderProcesses } from "../views/status-view.ts";
import { jsonRootOptions, type JsonRootArgs } from "./root-option.ts";

export function processesCommand(io: Io): CommandModule<object, JsonRootArgs> {
  return {
    command: "processes",
    describe: "List the node's processes: pid, name, module, status, queue length",
    builder: (y) => jsonRootOptions(y).example("$0 processes --root /srv/calc", "") as never,
    handler: async (argv) => {
      const list = await nodeProcesses(argv.root);
      io.out(argv.json ? JSON.stringify(list, null, 2) + "\n" : renderProcesses(list));
    },
  };
}
