/** `relup rollback`: back to the previous release, live (rollback-release.ts). */
import type { CommandModule } from "yargs";
import { rollbackRelease } from "../../apply/rollback-release.ts";
import type { Io } from "../io.ts";
import { parseTimeout } from "../parse-timeout.ts";
import { renderKilled } from "../views/killed-view.ts";
import { renderProgress } from "../views/progress-view.ts";
import { rootOption } from "./root-option.ts";

interface RollbackArgs {
  root: string;
  codeChangeTimeout?: string;
  dryRun: boolean;
}


export function rollbackCommand(io: Io): CommandModule<object, RollbackArgs> {
  return {
    command: "rollback",
    describe: "Go back to the previous release, live, running the plan's other section",
    builder: (y) =>
      rootOption(y)
        .option("code-change-timeout", { type: "string", describe: "How long each process's codeChange may take in this rollback, in ms (at most 2147483647) or \"infinity\" (overrides the plan; default: the plan's, else 5000); on expiry the rollback is undone and the node stays where it was" })
        .option("dry-run", { type: "boolean", default: false, describe: "Only check: find the plan back, read and compile the old code and validate the plan, changing nothing" })
        .example("$0 rollback --root /srv/calc", "")
        .example("$0 rollback --root /srv/calc --code-change-timeout 60000", "roll back an upgrade whose migrations needed a minute") as never,
    handler: async (argv) => {
      const codeChangeTimeout = argv.codeChangeTimeout !== undefined ? parseTimeout("--code-change-timeout", argv.codeChangeTimeout, { infinity: true }) : undefined;
      const started = performance.now();
      const result = await rollbackRelease({
        root: argv.root,
        dryRun: argv.dryRun,
        ...(codeChangeTimeout !== undefined ? { codeChangeTimeout } : {}),
        progress: (event) => {
          const line = renderProgress(event);
          if (line) io.err(`${line}\n`);
        },
      });
      if (result.dryRun) {
        io.out(`check passed: rollback ${result.from} → ${result.to}, ${result.steps} steps, ${result.modules} module${result.modules === 1 ? "" : "s"} compiled; nothing changed\n`);
        io.out(renderKilled(result.killed, "will be killed at the purge"));
        return;
      }
      io.out(renderKilled(result.killed, "killed at the purge"));
      io.out(`rolled back ${result.from} → ${result.to} in ${Math.round(performance.now() - started)} ms\n`);
    },
  };
}
