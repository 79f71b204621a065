import type { CommandModule } from "yargs";
import { applyRelease } from "../../apply/apply-release.ts";
import { formatRestartImpact } from "../../apply/restart-impact.ts";
import { ExitCode, UserError } from "../../errors.ts";
import { parseTimeout } from "../parse-timeout.ts";
import { renderPlanText } from "../../relup/render/render-text.ts";
import type { Io } from "../io.ts";
import { renderKilled } from "../views/killed-view.ts";
import { renderProgress } from "../views/progress-view.ts";

interface ApplyArgs {
  release: string;
  root: string;
  plan?: string;
  permanent: boolean;
  dryRun: boolean;
  yes: boolean;
  allowRestart: boolean;
  allowEditedPlan: boolean;
  codeChangeTimeout?: string;
}

export function applyCommand(io: Io): CommandModule<object, ApplyArgs> {
  return {
    command: "apply <release>",
    describe: "Upgrade (or downgrade) the running node to a release, live, following a reviewed plan",
    builder: (y) =>
      y
        .positional("release", { type: "string", demandOption: true, describe: "A release directory or .tar.gz, or the version of a release unpacked in the root" })
        .option("root", { type: "string", default: "relup-root", describe: "The release root of the running node" })
        .option("plan", { type: "string", describe: "The plan file to follow (default: the plan the newer release ships from the older version, plans/<from>-<to>.json; one generated now when it ships none)" })
        .option("permanent", { type: "boolean", default: false, describe: "Make the release permanent once installed (the node boots it from then on)" })
        .option("dry-run", { type: "boolean", default: false, describe: "Only check: read and compile the new code and validate the plan, changing nothing" })
        .option("yes", { type: "boolean", default: false, describe: "Apply a generated plan without asking" })
        .option("allow-restart", { type: "boolean", default: false, describe: "Allow a plan that restarts the node (restart_new_emulator): every process loses its in-memory state" })
        .option("allow-edited-plan", { type: "boolean", default: false, describe: "Apply a --plan that is not the plan `relup generate` makes for the two releases (it was edited after generation); the node still checks what it does" })
        .option("code-change-timeout", { type: "string", describe: "How long each process's codeChange may take in this install, in ms (at most 2147483647) or \"infinity\" (overrides the plan; default: the plan's, else 5000); on expiry the install rolls back" })
        .example("$0 apply _build/calculator-1.1.0.tar.gz --root /srv/calc --plan plans/1.0.0-1.1.0.json", "install 1.1.0 on the running node with the given plan")
        .example("$0 apply 1.1.0 --root /srv/calc --dry-run", "check an unpacked release and its plan without changing anything") as never,
    handler: async (argv) => {
      const codeChangeTimeout = argv.codeChangeTimeout !== undefined ? parseTimeout("--code-change-timeout", argv.codeChangeTimeout, { infinity: true }) : undefined;
      const started = performance.now();
      const result = await applyRelease({
        root: argv.root,
        release: argv.release,
        ...(argv.plan !== undefined ? { planFile: argv.plan } : {}),
        dryRun: argv.dryRun,
        permanent: argv.permanent,
        allowRestart: argv.allowRestart,
        allowEditedPlan: argv.allowEditedPlan,
        ...(codeChangeTimeout !== undefined ? { codeChangeTimeout } : {}),
        note: (text) => io.err(`${text}\n`),
        progress: (event) => {
          const line = renderProgress(event);
          if (line) io.err(`${line}\n`);
        },
        confirm: async (plan, restart) => {
          io.err(renderPlanText(plan, { color: io.color }) + "\n");
          if (restart) io.err(formatRestartImpact(restart) + "\n");
          // A dry run applies nothing: the plan shown is checked without a question.
          if (argv.yes || argv.dryRun) return true;
          if (!io.ask) throw new UserError("the plan was generated now and needs a review. Fix: read it above and pass --yes, or give a reviewed plan with --plan.", ExitCode.badInput);
          const answer = await io.ask("Apply this plan? [y/N] ");
          return /^y(es)?$/i.test(answer.trim());
        },
      });
      const ms = Math.round(performance.now() - started);
      if (result.unchanged) {
        const { release, root, madePermanent } = result.unchanged;
        io.out(`no changes: ${release} ${result.to} is already running in ${root}${madePermanent ? "; made it permanent" : ""}\n`);
        return;
      }
      if (result.dryRun) {
        io.out(`check passed: ${result.from} → ${result.to} (${result.direction}), ${result.check!.steps} steps, ${result.check!.modules} module${result.check!.modules === 1 ? "" : "s"} compiled; nothing changed\n`);
        io.out(renderKilled(result.check!.killed, "will be killed at the purge"));
        if (result.restart) io.out(`${formatRestartImpact(result.restart)}\n${argv.allowRestart ? "--allow-restart is given: apply will restart the node" : "apply refuses it unless --allow-restart is given"}\n`);
      } else {
        io.out(renderKilled(result.killed ?? [], "killed at the purge"));
        io.out(`${result.direction === "down" ? "downgraded" : "upgraded"} ${result.from} → ${result.to} in ${ms} ms${result.permanent ? "; permanent" : "; not permanent yet (a node restart boots the permanent release)"}\n`);
      }
    },
  };
}
