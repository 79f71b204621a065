/** `relup remove`: one call to the node's release handler (release-client.ts). */
import type { CommandModule } from "yargs";
import { removeRelease } from "../../runtime/release-client.ts";
import type { Io } from "../io.ts";
import { rootOption } from "./root-option.ts";

export function removeCommand(io: Io): CommandModule<object, { vsn: string; root: string; force: boolean }> {
  return {
    command: "remove <vsn>",
    describe: "Delete an unpacked or old release from the root",
    builder: (y) => rootOption(y.positional("vsn", { type: "string", demandOption: true, describe: "The version of an unpacked or old release" }))
        .option("force", { type: "boolean", default: false, describe: "Delete it even while the running node still runs modules read from it (unchanged since); they keep running from memory" })
        .example("$0 remove 1.0.0 --root /srv/calc", "") as never,
    handler: async (argv) => {
      await removeRelease(argv.root, argv.vsn, { force: argv.force });
      io.out(`removed ${argv.vsn}\n`);
    },
  };
}
