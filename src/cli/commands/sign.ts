/** `relup sign`: a detached signature beside a release tarball (sign-release.ts). */
import type { CommandModule } from "yargs";
import { signRelease } from "../../fleet/sign-release.ts";
import type { Io } from "../io.ts";

interface SignArgs {
  release: string;
  key: string;
  force: boolean;
  json: boolean;
}

export function signCommand(io: Io): CommandModule<object, SignArgs> {
  return {
    command: "sign <release>",
    describe: "Sign a release tarball with an ed25519 private key: writes <release>.sig.json beside it",
    builder: (y) =>
      y
        .positional("release", { type: "string", demandOption: true, describe: "A release .tar.gz built by `relup build` (it is read and checked first)" })
        .option("key", { type: "string", demandOption: true, describe: "The private key (NAME.key from `relup keygen`; mode 0600)" })
        .option("force", { type: "boolean", default: false, describe: "Replace an existing, different signature file" })
        .option("json", { type: "boolean", default: false, describe: "Print the signature file's path and content as JSON" })
        .example("$0 sign _build/calculator-1.1.0.tar.gz --key ~/.relup/keys/relup-release.key", "writes _build/calculator-1.1.0.tar.gz.sig.json") as never,
    handler: async (argv) => {
      const result = await signRelease({ tarball: argv.release, keyFile: argv.key, force: argv.force });
      if (argv.json) {
        io.out(JSON.stringify({ file: result.file, unchanged: result.unchanged, ...result.signature }, null, 2) + "\n");
        return;
      }
      const { release, tarball, key } = result.signature;
      io.out(`${result.unchanged ? "already signed" : "signed"} ${release.name} ${release.version} (identity ${release.identity}, tarball sha256 ${tarball.sha256}) with key ${key}: ${result.file}\n`);
    },
  };
}
