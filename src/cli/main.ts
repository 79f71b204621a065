#!/usr/bin/env node
/**
 * The `relup` executable: the process's arguments, streams and environment handed to runCli, Ctrl-C and
 * SIGTERM wired to the interrupt handling, and the exit code set. Everything else is in run-cli.ts.
 */
import { interrupt } from "../interrupt.ts";
import { processIo } from "./io.ts";
import { runCli } from "./run-cli.ts";

process.on("SIGINT", () => interrupt("SIGINT"));
process.on("SIGTERM", () => interrupt("SIGTERM"));
process.exitCode = await runCli(process.argv.slice(2), processIo(process.env), process.env);
