import path from "node:path";
import type { CommandModule } from "yargs";
import { ExitCode, UserError } from "../../errors.ts";
import { renderVerifyReport } from "../../verify/render-report.ts";
import { DEFAULT_RUNS, DEFAULT_SEED, DEFAULT_TIME_LIMIT_MS, verifyExitCode, verifyReleases } from "../../verify/verify-releases.ts";
import type { CliRun } from "../cli-run.ts";
import type { Io } from "../io.ts";
import { parseTimeout } from "../parse-timeout.ts";
import { outputFormat } from "../output-format.ts";

interface VerifyArgs {
  from?: string;
  to?: string;
  runs?: number;
  seed?: number;
  strict: boolean;
  timeLimit: number;
  live: boolean;
  root?: string;
  format?: "text" | "json";
  json: boolean;
}

export function verifyCommand(io: Io, run: CliRun): CommandModule<object, VerifyArgs> {
  return {
    command: "verify [from] [to]",
    describe: "Property-test every state migration (codeChange) of an upgrade, and every soft update of a server, against the stateSchema of both versions; with --live, also on a live node's states",
    builder: (y) =>
      y
        .positional("from", { type: "string", describe: "The running release: a directory or .tar.gz (with --live, may be left out: the node's own)" })
        .positional("to", { type: "string", describe: "The release to upgrade to" })
        .option("runs", { type: "number", describe: `Generated states per module and direction (default ${DEFAULT_RUNS}); with --live, seeded with the live states' values` })
        .option("seed", { type: "number", describe: `Seed of the generator (default ${DEFAULT_SEED}, so two runs check the same states); a failure's report gives the seed that replays it` })
        .option("strict", { type: "boolean", default: false, describe: "Fail when a stateful or soft update of a server cannot be verified (no stateSchema)" })
        .option("time-limit", { type: "number", default: DEFAULT_TIME_LIMIT_MS, describe: "Milliseconds one codeChange call may take" })
        .option("live", { type: "boolean", default: false, describe: "Dry-run the migrations on copies of the states in the running node (see --root), and seed the generated states with their values; the node is not touched" })
        .option("root", { type: "string", describe: "With --live: the release root of the node (default relup-root)" })
        .option("format", { choices: ["text", "json"] as const, describe: "How to print the report (default: text, on a terminal or not)" })
        .option("json", { type: "boolean", default: false, describe: "Same as --format json" })
        .example("$0 verify _build/counter-1.0.0.tar.gz _build/counter-2.0.0.tar.gz", "generate 1,000 states per direction and check each migration")
        .example("$0 verify _build/counter-2.0.0.tar.gz --live --root /srv/counter", "dry-run on the states the node holds now") as never,
    handler: async (argv) => {
      const runs = argv.runs ?? DEFAULT_RUNS;
      if (!Number.isInteger(runs) || runs < 1) throw new UserError(`--runs must be a whole number of at least 1, not ${shown(runs)}. Fix: \`--runs 1000\`.`, ExitCode.badInput);
      checkSeed(argv.seed);
      const timeLimitMs = parseTimeout("--time-limit", argv.timeLimit);
      if (!argv.live && argv.root !== undefined) throw new UserError("--root names the node for --live. Fix: add --live, or leave --root out.", ExitCode.badInput);
      const root = path.resolve(argv.root ?? "relup-root");
      const { from, to } = releasesToVerify(argv);
      const report = await verifyReleases({ ...(from !== undefined ? { from } : {}), to, runs, timeLimitMs, ...(argv.seed !== undefined ? { seed: argv.seed } : {}), ...(argv.live ? { live: { root } } : {}), env: run.env, output: (text) => io.err(text) });
      const format = outputFormat(argv, ["text", "json"] as const);
      const command = argv.live ? `relup verify ${argv.from ?? ""} ${argv.to ?? ""} --live --root ${argv.root ?? "relup-root"}`.replace(/ +/g, " ") : `relup verify ${from} ${to}`;
      io.out(format === "json" ? JSON.stringify(report, null, 2) + "\n" : renderVerifyReport(report, { color: io.color, command }));
      run.exitCode = verifyExitCode(report, argv.strict);
    },
  };
}

/** The releases named on the command line; with --live and one release, the node's own is the source. */
function releasesToVerify(argv: VerifyArgs): { from?: string; to: string } {
  if (argv.from !== undefined && argv.to !== undefined) return { from: argv.from, to: argv.to };
  if (!argv.live) throw new UserError("verify needs two releases: the one running and the one to upgrade to. Fix: `relup verify <from> <to>`.", ExitCode.badInput);
  if (argv.from === undefined) throw new UserError("verify --live needs the release to upgrade to. Fix: `relup verify <to> --live --root DIR`.", ExitCode.badInput);
  return { to: argv.from };
}

const shown = (n: number) => (Number.isNaN(n) ? "a non-number" : String(n));

/** A seed, when given, is a whole number (fast-check's seeds are 32-bit integers). */
export function checkSeed(seed: number | undefined): void {
  if (seed !== undefined && (!Number.isInteger(seed) || Math.abs(seed) > 2 ** 31)) {
    throw new UserError(`--seed must be a whole number, not ${shown(seed)}. Fix: use the seed a report printed.`, ExitCode.badInput);
  }
}
