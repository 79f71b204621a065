/** `relup unpack`: one call to the node's release handler (release-client.ts). */
import type { CommandModule } from "yargs";
import { unpackRelease } from "../../runtime/release-client.ts";
import type { Io } from "../io.ts";
import { rootOption } from "./root-option.ts";

export function unpackCommand(io: Io): CommandModule<object, { release: string; root: string }> {
  return {
    command: "unpack <release>",
    describe: "Verify a release and unpack it into the node's root (status: unpacked)",
    builder: (y) => rootOption(y.positional("release", { type: "string", demandOption: true, describe: "A release tarball or directory" })).example("$0 unpack _build/calculator-1.1.0.tar.gz --root /srv/calc", "") as never,
    handler: async (argv) => {
      const r = await unpackRelease(argv.root, argv.release);
      if (r.note) io.out(`${r.note}\n`);
      io.out(r.existed ? `${r.version} is already unpacked (same build)\n` : `unpacked ${r.version}\n`);
    },
  };
}
