/** `relup releases`: the root's releases, from the node or from RELEASES (list-releases.ts). */
import path from "node:path";
import type { CommandModule } from "yargs";
import { listReleases } from "../../runtime/list-releases.ts";
import type { Io } from "../io.ts";
import { rootOption } from "./root-option.ts";

export function releasesCommand(io: Io): CommandModule<object, { root: string; json: boolean }> {
  return {
    command: "releases",
    describe: "The releases of the root and their status: unpacked, current, permanent, old",
    builder: (y) => rootOption(y).option("json", { type: "boolean", default: false }).example("$0 releases --root /srv/calc", "") as never,
    handler: async (argv) => {
      const { running, releases: list } = await listReleases(path.resolve(argv.root));
      if (argv.json) return io.out(JSON.stringify(list, null, 2) + "\n");
      io.out(list.map((r) => `${r.name} ${r.version.padEnd(12)} ${r.status}`).join("\n") + "\n");
      if (!running) io.err("no node is running in this root: the statuses are RELEASES's (a node would boot the permanent release)\n");
    },
  };
}
