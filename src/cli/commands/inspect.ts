import type { CommandModule } from "yargs";
import pc from "picocolors";
import { readRelease } from "../../release/read-release.ts";
import { checkShippedPlans } from "../../relup/shipped-plans.ts";
import { renderReleaseContents } from "../views/release-view.ts";
import type { Io } from "../io.ts";

interface InspectArgs {
  release: string;
  json: boolean;
}

export function inspectCommand(io: Io): CommandModule<object, InspectArgs> {
  return {
    command: "inspect <release>",
    describe: "Verify a built release (directory or tarball) and show what it contains",
    builder: (y) =>
      y
        .positional("release", { type: "string", demandOption: true, describe: "A release directory or .tar.gz built by `relup build`" })
        .option("json", { type: "boolean", default: false, describe: "Print release.json and every app.json as JSON" })
        .example("$0 inspect _build/calculator-1.0.0.tar.gz", "checks every file against release.json and lists applications and modules") as never,
    handler: async (argv) => {
      const loaded = await readRelease(argv.release);
      try {
        await checkShippedPlans(loaded.dir, argv.release, loaded.release, loaded.apps);
        if (argv.json) {
          io.out(JSON.stringify({ release: loaded.release, apps: loaded.apps, identity: loaded.identity }, null, 2) + "\n");
          return;
        }
        const c = pc.createColors(io.color);
        const files = Object.keys(loaded.release.files).length + 1;
        io.out(
          [
            `${c.green("verified")} ${c.bold(`${loaded.release.name} ${loaded.release.version}`)}: ${files} files match release.json (node ${loaded.release.node})`,
            `  identity ${loaded.identity} (sha256 of release.json without the plans it ships)`,
            ...renderReleaseContents(loaded.release, loaded.apps, io.color),
          ].join("\n") + "\n",
        );
      } finally {
        await loaded.close();
      }
    },
  };
}
