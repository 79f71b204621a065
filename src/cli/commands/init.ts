import { existsSync } from "node:fs";
import path from "node:path";
import type { CommandModule } from "yargs";
import { ExitCode, UserError } from "../../errors.ts";
import { scaffoldProject } from "../../release/scaffold-project.ts";
import type { Io } from "../io.ts";

interface InitArgs {
  dir: string;
  name?: string;
  relup?: string;
}

/** `relupVersion`: this relup's version, which the new project's package.json asks for. */
export function initCommand(io: Io, relupVersion: string): CommandModule<object, InitArgs> {
  return {
    command: "init [dir]",
    describe: "Write a new release project to start from: an application with a stateful server, an HTTP endpoint, TypeScript, npm scripts",
    builder: (y) =>
      y
        .positional("dir", { type: "string", default: ".", describe: "Where to write it (created if missing; nothing there is overwritten)" })
        .option("name", { type: "string", describe: "The release and application name (default: the directory's name)" })
        .option("relup", { type: "string", describe: "Where package.json gets relup from, as npm takes it: a version range (default ^<this version>), a tarball or a folder" })
        .example("$0 init shop", "write the project shop/ for the release `shop`")
        .example("$0 init shop --relup ../relup-0.1.0.tgz", "take relup from a packed tarball rather than the registry") as never,
    handler: async (argv) => {
      // A tarball or folder given from here is written as npm reads it from the project: file:, relative to it.
      const looksLikePath = argv.relup !== undefined && (argv.relup.includes("/") || /\.(tgz|tar\.gz)$/.test(argv.relup));
      if (argv.relup !== undefined && looksLikePath && !existsSync(argv.relup)) throw new UserError(`--relup ${argv.relup}: no such file or folder. Fix: give the packed relup tarball (npm pack in a relup checkout writes relup-<version>.tgz), a relup folder, or a version range.`, ExitCode.badInput);
      const spec = argv.relup === undefined ? `^${relupVersion}` : existsSync(argv.relup) ? `file:${path.relative(path.resolve(argv.dir), path.resolve(argv.relup))}` : argv.relup;
      const result = await scaffoldProject({ dir: argv.dir, ...(argv.name !== undefined ? { name: argv.name } : {}), relupRange: spec });
      io.out(result.files.map((f) => `  ${f}\n`).join(""));
      io.err(`wrote the release project ${result.name} in ${result.dir}; its package.json takes relup from ${JSON.stringify(spec)}. Next: cd ${argv.dir} && npm install && npm run build && npm start\n`);
    },
  };
}
