/**
 * The command line as a function: `runCli(argv, io, env)` parses and runs one command and returns its
 * exit code. It has no side effects beyond the command's own: it installs no signal handler, sets no
 * `process.exitCode`, changes no working directory, and reads the environment only from `env`, so tests
 * run it in their own process as many times as they like. The executable (main.ts) is a thin wrapper
 * that passes the process's streams, arguments and environment, and exits with the code.
 */
import { BugError, ExitCode } from "../errors.ts";
import type { CliRun } from "./cli-run.ts";
import { createCli } from "./create-cli.ts";
import { exitCodeOf } from "./exit-code.ts";
import type { Io } from "./io.ts";
import { joinNodeOptions } from "../runtime/node-options.ts";

export async function runCli(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const run: CliRun = { env, exitCode: undefined };
  try {
    // yargs prints --help and --version itself (console.log) unless a parse callback takes the text.
    let printed = "";
    await createCli(io, argv, run)
      .exitProcess(false)
      .parseAsync(joinNodeOptions(argv), {}, (_error, _argv, output) => {
        printed = output;
      });
    if (printed) io.out(`${printed}\n`);
    return run.exitCode ?? ExitCode.ok;
  } catch (error) {
    const code = exitCodeOf(error);
    if (code !== undefined) {
      io.err(`relup: ${(error as Error).message}\n`);
      return code;
    }
    const bug = error instanceof BugError ? error : new BugError(error instanceof Error ? (error.stack ?? error.message) : String(error));
    io.err(`relup: ${bug.message}\n`);
    return ExitCode.checkFailed;
  }
}
