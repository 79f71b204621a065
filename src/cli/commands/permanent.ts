/** `relup permanent`: one call to the node's release handler (release-client.ts). */
import type { CommandModule } from "yargs";
import { makePermanent } from "../../runtime/release-client.ts";
import type { Io } from "../io.ts";
import { rootOption } from "./root-option.ts";

// The version positional is `vsn`, as in OTP: yargs owns `version` (`relup --version`), and a positional of
// that name would be read as its boolean flag.
export function permanentCommand(io: Io): CommandModule<object, { vsn: string; root: string }> {
  return {
    command: "permanent <vsn>",
    describe: "Make the current release permanent: the node boots it from now on",
    builder: (y) => rootOption(y.positional("vsn", { type: "string", demandOption: true, describe: "The version of the running release" })).example("$0 permanent 1.1.0 --root /srv/calc", "") as never,
    handler: async (argv) => {
      await makePermanent(argv.root, argv.vsn);
      io.out(`${argv.vsn} is permanent\n`);
    },
  };
}
