/** `relup status`: one call to the node (release-client.ts). */
import type { CommandModule } from "yargs";
import { nodeStatus } from "../../runtime/release-client.ts";
import type { Io } from "../io.ts";
import { renderStatus } from "../views/status-view.ts";
import { jsonRootOptions, type JsonRootArgs } from "./root-option.ts";

export function statusCommand(io: Io): CommandModule<object, JsonRootArgs> {
  return {
    command: "status",
    describe: "What the node runs: release, OS pid, uptime, applications, module versions, processes, memory",
    builder: (y) => jsonRootOptions(y).example("$0 status --root /srv/calc", "") as never,
    handler: async (argv) => {
      const status = await nodeStatus(argv.root);
      io.out(argv.json ? JSON.stringify(status, null, 2) + "\n" : renderStatus(status));
    },
  };
}
