import type { CommandModule } from "yargs";
import pc from "picocolors";
import { inspectRelease } from "../../relup/inspect-release.ts";
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
      const inspected = await inspectRelease(argv.release);
      if (argv.json) return io.out(JSON.stringify(inspected, null, 2) + "\n");
      const c = pc.createColors(io.color);
      const files = Object.keys(inspected.release.files).length + 1;
      io.out(
        [
          `${c.green("verified")} ${c.bold(`${inspected.release.name} ${inspected.release.version}`)}: ${files} files match release.json (node ${inspected.release.node})`,
          `  identity ${inspected.identity} (sha256 of release.json without the plans it ships)`,
          ...renderReleaseContents(inspected.release, inspected.apps, io.color),
        ].join("\n") + "\n",
      );
    },
  };
}
