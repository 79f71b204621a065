/** `relup fleet publish`: a release into a store, with its digest and identity recorded (publish-release.ts). */
import type { CommandModule } from "yargs";
import { publishRelease } from "../../fleet/publish-release.ts";
import { readTrustedKeys } from "../../fleet/signing-keys.ts";
import type { Io } from "../io.ts";

interface PublishArgs {
  release: string;
  store: string;
  trustedKey: string[];
  force: boolean;
  json: boolean;
}

export function fleetPublishCommand(io: Io): CommandModule<object, PublishArgs> {
  return {
    command: "publish <release>",
    describe: "Copy a release tarball and its signature into a release store (file://) and record its sha256 and identity",
    builder: (y) =>
      y
        .positional("release", { type: "string", demandOption: true, describe: "A release .tar.gz built by `relup build` (its <tarball>.sig.json beside it is published too)" })
        .option("store", { type: "string", demandOption: true, describe: "The store: file:///dir (http(s):// stores are read-only to relup: docs/fleet.md)" })
        .option("trusted-key", { type: "string", array: true, default: [], describe: "A public key (.pub) or a directory of them (repeatable): refuse to publish a release not signed by one of them" })
        .option("force", { type: "boolean", default: false, describe: "Replace another tarball published under the same version (nodes pinned to it then refuse the new one)" })
        .option("json", { type: "boolean", default: false, describe: "Print the record and the URLs as JSON" })
        .example("$0 fleet publish _build/calculator-1.1.0.tar.gz --store file:///srv/releases", "writes /srv/releases/calculator/calculator-1.1.0.tar.gz, .sig.json and .published.json") as never,
    handler: async (argv) => {
      const trusted = argv.trustedKey.length > 0 ? await readTrustedKeys(argv.trustedKey.map(String)) : undefined;
      const result = await publishRelease({ tarball: argv.release, store: argv.store, force: argv.force, ...(trusted ? { trusted } : {}) });
      if (argv.json) {
        io.out(JSON.stringify({ ...result.record, urls: result.urls, unchanged: result.unchanged }, null, 2) + "\n");
        return;
      }
      const { release, tarball, signature } = result.record;
      io.out(
        [
          `${result.unchanged ? "already published" : "published"} ${release.name} ${release.version}`,
          `  tarball   ${result.urls.tarball}`,
          `  sha256    ${tarball.sha256} (${tarball.bytes} bytes)`,
          `  identity  ${release.identity}`,
          `  signed    ${signature ? `key ${signature.key}` : "no (nodes with trusted keys will refuse it: `relup sign` it, then publish again)"}`,
          `  record    ${result.urls.record}`,
        ].join("\n") + "\n",
      );
    },
  };
}
