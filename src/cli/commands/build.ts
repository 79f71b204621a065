import type { CommandModule } from "yargs";
import { ExitCode, UserError } from "../../errors.ts";
import { buildRelease } from "../../relup/build-with-plans.ts";
import { renderBuild } from "../views/build-view.ts";
import type { Io } from "../io.ts";

interface BuildArgs {
  dir: string;
  out?: string;
  json: boolean;
  force: boolean;
  typecheck?: boolean;
}

export function buildCommand(io: Io): CommandModule<object, BuildArgs> {
  return {
    command: "build [dir]",
    describe: "Build a release directory and a reproducible tarball from a project (relup.config.json)",
    builder: (y) =>
      y
        .positional("dir", { type: "string", default: ".", describe: "The release project: a folder with relup.config.json" })
        .option("out", { type: "string", describe: "Where to write <name>-<version>/ and <name>-<version>.tar.gz (default <dir>/_build)" })
        .option("json", { type: "boolean", default: false, describe: "Print what was built as JSON" })
        .option("force", { type: "boolean", default: false, describe: "Replace an existing, different build of the same version" })
        .option("typecheck", { type: "boolean", describe: "Type-check with the project's own TypeScript (tsc --noEmit -p tsconfig.json) before building. Default: when the project has a tsconfig.json; --typecheck fails the build when it cannot check, --no-typecheck skips the check" })
        .example("$0 build fixtures/calculator/1.0.0 --out /tmp/rel", "writes /tmp/rel/calculator-1.0.0/ and /tmp/rel/calculator-1.0.0.tar.gz") as never,
    handler: async (argv) => {
      if (argv.out === "") throw new UserError("--out needs a directory. Fix: `relup build <project> --out <dir>`, or leave --out out to build into <project>/_build.", ExitCode.badInput);
      const started = performance.now();
      const typecheck = argv.typecheck === undefined ? "auto" : argv.typecheck ? "required" : "off";
      const result = await buildRelease({ dir: argv.dir, force: argv.force, typecheck, ...(argv.out !== undefined ? { out: argv.out } : {}) });
      io.out(renderBuild(result, { json: argv.json, ms: performance.now() - started, color: io.color }));
    },
  };
}
