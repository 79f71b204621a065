import path from "node:path";
import type { CommandModule } from "yargs";
import { ExitCode, UserError } from "../../errors.ts";
import { controlRequest, controlSocketPath, rawRequest } from "../../runtime/control-client.ts";
import { readReleasesFile } from "../../runtime/releases-file.ts";
import { waitForExit } from "../../runtime/process-exit.ts";
import type { Io } from "../io.ts";
import { renderProcesses, renderStatus, type StatusView, type ProcessView } from "../views/status-view.ts";

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
      const status = (await controlRequest(path.resolve(argv.root), { cmd: "status" })) as StatusView;
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
      const list = (await controlRequest(path.resolve(argv.root), { cmd: "processes" })) as ProcessView[];
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
      // Stopping a stopped node is done already (converge-style deploys rerun it); a root with no release
      // at all is a wrong --root.
      const releases = await readReleasesFile(root);
      if (!releases) throw new UserError(`${root}: holds no release, so no node can run there. Fix: give the --root the node was started with.`, ExitCode.badInput);
      if (!(await nodeAnswers(root))) {
        io.out(`${releases.name} is not running in ${root}: nothing to stop\n`);
        return;
      }
      const status = (await controlRequest(root, { cmd: "status" })) as StatusView;
      await controlRequest(root, { cmd: "stop" });
      await waitForExit(status.pid);
      io.out(`stopped ${status.release.name} ${status.release.version} (node pid ${status.pid})\n`);
    },
  };
}

/** Whether a node listens on the root's control socket: no socket, or nobody behind it, is no node. */
function nodeAnswers(root: string): Promise<boolean> {
  return rawRequest(controlSocketPath(root), JSON.stringify({ cmd: "ping" }), 30_000).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED") return false;
      // Anything else (no answer in time): a node may be there; the stop request reports it.
      return true;
    },
  );
}
