import type { CommandModule } from "yargs";
import { ExitCode, UserError } from "../../errors.ts";
import { generateForReview } from "../../relup/generate-for-review.ts";
import { planHasChanges } from "../../relup/plan-releases.ts";
import { verifyExitCode } from "../../verify/verify-releases.ts";
import { checkSeed } from "./verify.ts";
import { outputFormat } from "../output-format.ts";
import { renderGenerate } from "../views/generate-view.ts";
import type { CliRun } from "../cli-run.ts";
import type { Io } from "../io.ts";

interface GenerateArgs {
  from: string;
  to: string;
  out?: string;
  format?: "text" | "markdown" | "json";
  json: boolean;
  comment: boolean;
  check: boolean;
  detailedExitcode: boolean;
  verify: boolean;
  seed?: number;
}

export function generateCommand(io: Io, run: CliRun): CommandModule<object, GenerateArgs> {
  return {
    command: "generate <from> <to>",
    describe: "Diff two builds of a release into an upgrade plan (relup) and print it for review",
    builder: (y) =>
      y
        .positional("from", { type: "string", demandOption: true, describe: "The running release: a directory or .tar.gz built by `relup build`" })
        .positional("to", { type: "string", demandOption: true, describe: "The release to upgrade to" })
        .option("out", { alias: "o", type: "string", describe: "Write the plan here, to commit and review: a file, or a folder (`plans/`) for <folder>/<from>-<to>.json" })
        .option("format", { choices: ["text", "markdown", "json"] as const, describe: "How to print the plan (default: text, on a terminal or not)" })
        .option("json", { type: "boolean", default: false, describe: "Same as --format json" })
        .option("comment", { type: "boolean", default: false, describe: "With --format markdown: the body of the sticky pull-request comment (a hidden marker line first, so the comment is replaced, not duplicated)" })
        .option("check", { type: "boolean", default: false, describe: "Compare with the committed -o file instead of writing it; exit 1 with a diff when it drifted" })
        .option("detailed-exitcode", { type: "boolean", default: false, describe: "Exit 0 when the plan has nothing to do, 3 when it has changes" })
        .option("verify", { type: "boolean", default: false, describe: "Also run `relup verify` and show each state migration's result in the text and Markdown views; exit 1 when one fails" })
        .option("seed", { type: "number", describe: "With --verify: the generator's seed (default: verify's fixed seed, so the view is the same each run)" })
        .example("$0 generate _build/calculator-1.0.0 _build/calculator-1.1.0", "print the plan")
        .example("$0 generate v1.tar.gz v2.tar.gz -o plans/", "write plans/<from>-<to>.json, to commit with the release")
        .example("$0 generate v1.tar.gz v2.tar.gz -o plans/ --check", "in CI: fail when the committed plan is stale")
        .example("$0 generate v1.tar.gz v2.tar.gz --verify --format markdown --comment", "the pull-request comment (docs/ci.md)") as never,
    handler: async (argv) => {
      if (argv.out === "") throw new UserError("-o needs a file or folder name. Fix: `-o plans/`.", ExitCode.badInput);
      if (argv.check && argv.out === undefined) throw new UserError("--check compares the plan with the file given by -o. Fix: add `-o plans/` (or the plan's file).", ExitCode.badInput);
      checkSeed(argv.seed);
      if (argv.seed !== undefined && !argv.verify) throw new UserError("--seed is the seed of --verify's generated states. Fix: add --verify, or leave --seed out.", ExitCode.badInput);
      const format = outputFormat(argv, ["text", "markdown", "json"] as const);
      if (argv.comment && format !== "markdown") throw new UserError("--comment is the Markdown body of a pull-request comment. Fix: add --format markdown.", ExitCode.badInput);
      const result = await generateForReview({ from: argv.from, to: argv.to, check: argv.check, verify: argv.verify, ...(argv.out !== undefined ? { out: argv.out } : {}), ...(argv.seed !== undefined ? { seed: argv.seed } : {}), env: run.env, output: (text) => io.err(text) });
      if (result.check?.drift !== undefined) {
        throw new UserError(`${result.check.file}: the committed plan differs from the one generated now:\n${result.check.drift}Fix: review the change, then write it with \`relup generate ${argv.from} ${argv.to} -o ${argv.out}\`.`, ExitCode.checkFailed);
      }
      const view = renderGenerate(result, { format, comment: argv.comment, color: io.color, command: { from: argv.from, to: argv.to } });
      io.out(view.out);
      if (view.err) io.err(view.err);
      if (result.report && verifyExitCode(result.report, false) !== ExitCode.ok) run.exitCode = ExitCode.checkFailed;
      else if (argv.detailedExitcode) run.exitCode = planHasChanges(result.plan) ? 3 : 0;
    },
  };
}
