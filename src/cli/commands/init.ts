import type { CommandModule } from "yargs";
import { scaffoldProject } from "../../release/scaffold-project.ts";
import type { Io } from "../io.ts";

interface InitArgs {
  dir: string;
  name?: string;
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
        .example("$0 init shop", "write the project shop/ for the release `shop`") as never,
    handler: async (argv) => {
      const result = await scaffoldProject({ dir: argv.dir, ...(argv.name !== undefined ? { name: argv.name } : {}), relupRange: `^${relupVersion}` });
      io.out(result.files.map((f) => `  ${f}\n`).join(""));
      io.err(`wrote the release project ${result.name} in ${result.dir}. Next: cd ${argv.dir} && npm install && npm run build && npm start\n`);
    },
  };
}
