#!/usr/bin/env node
/** The CLI entry point: the only place that chooses exit codes and exits. */
import { BugError, ExitCode } from "../errors.ts";
import { exitCodeOf } from "./exit-code.ts";
import { createCli } from "./create-cli.ts";
import { processIo } from "./io.ts";
import { interrupt } from "../interrupt.ts";

export async function main(argv: readonly string[]): Promise<number> {
  const io = processIo();
  process.on("SIGINT", () => interrupt("SIGINT"));
  process.on("SIGTERM", () => interrupt("SIGTERM"));
  try {
    await createCli(io, argv).exitProcess(false).parseAsync();
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
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

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
