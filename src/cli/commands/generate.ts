import { writeFile } from "node:fs/promises";
import type { CommandModule } from "yargs";
import { ExitCode, UserError } from "../../errors.ts";
import { driftOf, planHasChanges, planReleases } from "../../relup/plan-releases.ts";
import { relupFileText } from "../../relup/relup-file-io.ts";
import { renderPlanMarkdown } from "../../relup/render/render-markdown.ts";
import { renderPlanText } from "../../relup/render/render-text.ts";
import { planVerification } from "../../verify/render-report.ts";
import { verifyExitCode, verifyReleasesWithPlan } from "../../verify/verify-releases.ts";
import { checkSeed } from "./verify.ts";
import type { Io } from "../io.ts";

interface GenerateArgs {
  from: string;
  to: string;
  out?: string;
  format?: "text" | "markdown" | "json";
  check: boolean;
  detailedExitcode: boolean;
  verify: boolean;
  seed?: number;
}

export function generateCommand(io: Io): CommandModule<object, GenerateArgs> {
  return {
    command: "generate <from> <to>",
    describe: "Diff two builds of a release into an upgrade plan (relup) and print it for review",
    builder: (y) =>
      y
        .positional("from", { type: "string", demandOption: true, describe: "The running release: a directory or .tar.gz built by `relup build`" })
        .positional("to", { type: "string", demandOption: true, describe: "The release to upgrade to" })
        .option("out", { alias: "o", type: "string", describe: "Write the plan (relup.json) here, to commit and review" })
        .option("format", { choices: ["text", "markdown", "json"] as const, describe: "How to print the plan (default: text on a terminal, json otherwise)" })
        .option("check", { type: "boolean", default: false, describe: "Compare with the committed -o file instead of writing it; exit 1 with a diff when it drifted" })
        .option("detailed-exitcode", { type: "boolean", default: false, describe: "Exit 0 when the plan has nothing to do, 3 when it has changes" })
        .option("verify", { type: "boolean", default: false, describe: "Also run `relup verify` and show each state migration's result in the text and Markdown views; exit 1 when one fails" })
        .option("seed", { type: "number", describe: "With --verify: the generator's seed (for a reproducible plan view)" })
        .example("$0 generate _build/calculator-1.0.0 _build/calculator-1.1.0", "print the plan")
        .example("$0 generate v1.tar.gz v2.tar.gz -o relup.json", "write the plan to commit with the release")
        .example("$0 generate v1.tar.gz v2.tar.gz -o relup.json --check", "in CI: fail when the committed plan is stale") as never,
    handler: async (argv) => {
      if (argv.out === "") throw new UserError("-o needs a file name. Fix: `-o relup.json`.", ExitCode.badInput);
      if (argv.check && argv.out === undefined) throw new UserError("--check compares the plan with the file given by -o. Fix: add `-o relup.json`.", ExitCode.badInput);
      checkSeed(argv.seed);
      if (argv.seed !== undefined && !argv.verify) throw new UserError("--seed is the seed of --verify's generated states. Fix: add --verify, or leave --seed out.", ExitCode.badInput);
      // With --verify the releases are read once, for the plan and its verification together.
      const verified = argv.verify && !argv.check ? await verifyReleasesWithPlan({ from: argv.from, to: argv.to, ...(argv.seed !== undefined ? { seed: argv.seed } : {}) }) : undefined;
      const plan = verified?.plan ?? (await planReleases({ from: argv.from, to: argv.to }));
      if (argv.check) {
        const drift = await driftOf(plan, argv.out!);
        if (drift !== undefined) throw new UserError(`${argv.out}: the committed plan differs from the one generated now:\n${drift}Fix: review the change, then write it with \`relup generate ${argv.from} ${argv.to} -o ${argv.out}\`.`, ExitCode.checkFailed);
        io.out(`${argv.out}: up to date with ${plan.file.release} ${plan.file.from.version} → ${plan.file.to.version}\n`);
      } else {
        if (argv.out !== undefined) {
          await writeFile(argv.out, relupFileText(plan.file)).catch((error: NodeJS.ErrnoException) => {
            throw new UserError(`${argv.out}: cannot write the plan (${error.code ?? error.message}). Fix: check that its folder exists and is writable.`, ExitCode.badInput);
          });
        }
        const format = argv.format ?? (io.tty ? "text" : "json");
        const report = verified?.report;
        const verification = report ? { verification: planVerification(report) } : {};
        io.out(format === "json" ? relupFileText(plan.file) : format === "markdown" ? renderPlanMarkdown(plan, verification) : renderPlanText(plan, { color: io.color, ...verification }));
        if (report && verifyExitCode(report, false) !== ExitCode.ok) {
          io.err(`relup verify: a state migration failed; \`relup verify ${argv.from} ${argv.to} --seed ${report.seed}\` shows the failing state\n`);
          process.exitCode = ExitCode.checkFailed;
          return;
        }
        if (argv.out !== undefined && format !== "json") io.err(`wrote ${argv.out}\n`);
      }
      if (argv.detailedExitcode) process.exitCode = planHasChanges(plan) ? 3 : 0;
    },
  };
}
