/** `relup keygen`: an ed25519 key pair for signing releases (signing-keys.ts). */
import type { CommandModule } from "yargs";
import { ExitCode, UserError } from "../../errors.ts";
import { DEFAULT_KEY_NAME, writeKeyPair } from "../../fleet/signing-keys.ts";
import type { Io } from "../io.ts";

interface KeygenArgs {
  out: string;
  name: string;
  force: boolean;
  json: boolean;
}

export function keygenCommand(io: Io): CommandModule<object, KeygenArgs> {
  return {
    command: "keygen",
    describe: "Make an ed25519 key pair for signing releases: NAME.key (private, mode 0600) and NAME.pub (for the nodes)",
    builder: (y) =>
      y
        .option("out", { type: "string", demandOption: true, describe: "The directory to write the two files to (made with mode 0700 if missing)" })
        .option("name", { type: "string", default: DEFAULT_KEY_NAME, describe: "The files' base name: NAME.key and NAME.pub" })
        .option("force", { type: "boolean", default: false, describe: "Replace an existing key pair of that name (releases signed with the old key are then refused by nodes given only the new .pub)" })
        .option("json", { type: "boolean", default: false, describe: "Print the files and the key id as JSON" })
        .example("$0 keygen --out ~/.relup/keys", "writes ~/.relup/keys/relup-release.key and relup-release.pub") as never,
    handler: async (argv) => {
      if (argv.out === "") throw new UserError("--out needs a directory. Fix: `relup keygen --out <dir>`.", ExitCode.badInput);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(argv.name)) throw new UserError(`--name ${JSON.stringify(argv.name)}: a key's name is letters, digits, '.', '_' and '-', with no '/'. Fix: \`--name release-2026\`.`, ExitCode.badInput);
      const pair = await writeKeyPair({ dir: argv.out, name: argv.name, force: argv.force });
      if (argv.json) {
        io.out(JSON.stringify(pair, null, 2) + "\n");
        return;
      }
      io.out(`private key ${pair.privateKeyFile} (mode 0600: keep it off the nodes)\npublic key  ${pair.publicKeyFile} (give it to the nodes that trust this signer)\nkey id      ${pair.keyId}\n`);
    },
  };
}
