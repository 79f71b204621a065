/**
 * The command line: a thin yargs face over the library. One module per command in ./commands; each
 * handler calls one library function and one view. run-cli.ts runs it; tests of help texts build it with
 * `createCli(io).exitProcess(false)`.
 */
import { createRequire } from "node:module";
import yargs, { type Argv, type CommandModule } from "yargs";
import { buildCommand } from "./commands/build.ts";
import { initCommand } from "./commands/init.ts";
import { generateCommand } from "./commands/generate.ts";
import { verifyCommand } from "./commands/verify.ts";
import { inspectCommand } from "./commands/inspect.ts";
import { startCommand } from "./commands/start.ts";
import { applyCommand } from "./commands/apply.ts";
import { unpackCommand } from "./commands/unpack.ts";
import { permanentCommand } from "./commands/permanent.ts";
import { rollbackCommand } from "./commands/rollback.ts";
import { removeCommand } from "./commands/remove.ts";
import { releasesCommand } from "./commands/releases.ts";
import { statusCommand } from "./commands/status.ts";
import { processesCommand } from "./commands/processes.ts";
import { stopCommand } from "./commands/stop.ts";
import { keygenCommand } from "./commands/keygen.ts";
import { signCommand } from "./commands/sign.ts";
import { fleetCommand } from "./commands/fleet.ts";
import { observeCommand } from "./commands/observe.ts";
import type { CliRun } from "./cli-run.ts";
import type { Io } from "./io.ts";
import { UserError, ExitCode } from "../errors.ts";
import { joinNodeOptions } from "../runtime/node-options.ts";

const RELUP_VERSION: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

export function createCli(io: Io, argv: readonly string[] = [], run: CliRun = { env: process.env, exitCode: undefined }): Argv {
  const commands = [initCommand(io, RELUP_VERSION), buildCommand(io), inspectCommand(io), generateCommand(io, run), verifyCommand(io, run), startCommand(io, run), statusCommand(io), processesCommand(io), stopCommand(io), unpackCommand(io), applyCommand(io), permanentCommand(io), rollbackCommand(io), removeCommand(io), releasesCommand(io), keygenCommand(io), signCommand(io), fleetCommand(io), observeCommand(io)] as CommandModule<object, never>[];
  const cli = yargs(joinNodeOptions(argv))
    .scriptName("relup")
    .usage("$0 <command> [options]\n\nFormal release upgrades for Node.js: build releases, plan upgrades, apply them live.");
  for (const command of commands) cli.command(command);
  return cli
    .demandCommand(1, "Name a command; `relup --help` lists them.")
    .strict()
    .recommendCommands()
    .help()
    .alias("h", "help")
    .version(RELUP_VERSION)
    .wrap(Math.min(110, io.columns || 100))
    .fail((message, error) => {
      // yargs reports bad usage with a message and no error; errors thrown by handlers pass through.
      if (error) throw error;
      throw new UserError(`${message}\n${usageHint(commands, argv)}`, ExitCode.badInput);
    });
}

/** Where to read more after bad usage: the named command's own usage line and help, else the whole CLI's. */
function usageHint(commands: readonly CommandModule<object, never>[], argv: readonly string[]): string {
  const name = argv.find((arg) => !arg.startsWith("-"));
  const command = commands.map((c) => String(c.command)).find((c) => c.split(" ")[0] === name);
  if (command === undefined) return "Run `relup --help` for usage.";
  return `Usage: relup ${command} [options]\nRun \`relup ${name} --help\` for its arguments and options.`;
}
