/** `relup observe`: a read-only dashboard of the node in the browser (src/observe/observe-server.ts), until Ctrl-C. */
import type { CommandModule } from "yargs";
import { ExitCode, UserError } from "../../errors.ts";
import { onInterrupt } from "../../interrupt.ts";
import { startObserveServer } from "../../observe/observe-server.ts";
import { nodeStatus } from "../../runtime/release-client.ts";
import type { Io } from "../io.ts";
import { rootOption } from "./root-option.ts";

interface ObserveArgs {
  root: string;
  port: string;
}

export function observeCommand(io: Io): CommandModule<object, ObserveArgs> {
  return {
    command: "observe",
    describe: "Serve a live, read-only dashboard of the node on 127.0.0.1 (release, supervision trees, processes, modules, charts, upgrade timeline); prints its URL, which carries an access token",
    builder: (y) =>
      rootOption(y)
        .option("port", { type: "string", default: "0", describe: "The port on 127.0.0.1 (0: any free port)" })
        .example("$0 observe --root /srv/calc", "print the dashboard's URL and serve it until Ctrl-C")
        .example("$0 observe --root /srv/calc --port 8123", "on a fixed port (to forward it: ssh -L 8123:127.0.0.1:8123 host)") as never,
    handler: async (argv) => {
      // Read as text, so that the message shows what was typed (yargs makes `--port abc` a NaN).
      const port = /^\d{1,5}$/.test(argv.port) ? Number(argv.port) : Number.NaN;
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port ${argv.port} is not a port. Fix: give a whole number from 1 to 65535, or 0 for any free port.`, ExitCode.badInput);
      // The node first: a root without a running node is said at once, not shown as a page that stays empty.
      const status = await nodeStatus(argv.root);
      const server = await startObserveServer({ root: argv.root, port }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "EADDRINUSE" || error.code === "EACCES") throw new UserError(`--port ${port}: 127.0.0.1:${port} ${error.code === "EADDRINUSE" ? "is already in use" : "may not be used by this user"}. Fix: give another port, or --port 0 for any free one.`, ExitCode.badInput);
        throw error;
      });
      io.out(`${server.url}\n`);
      io.err(`observing ${status.release.name} ${status.release.version} (node pid ${status.pid}) read-only at the URL above, which only this machine can reach; Ctrl-C stops it\n`);
      await new Promise<void>((resolve) => {
        const forget = onInterrupt(() => {
          forget();
          void server.close().then(resolve);
        });
      });
    },
  };
}
