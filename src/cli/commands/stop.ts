/** `relup stop`: one library call (stop-node.ts), which also waits for the node and its launcher to end. */
import path from "node:path";
import type { CommandModule } from "yargs";
import { stopNode } from "../../runtime/stop-node.ts";
import type { Io } from "../io.ts";
import { renderStop } from "../views/status-view.ts";

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
