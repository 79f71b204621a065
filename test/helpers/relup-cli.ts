/**
 * The command line as a user runs it, with its exit code and output:
 * - `relup(args, env, timeoutMs)`: the CLI's own entry (runCli) in this process, with the real parser,
 *   commands and library and its output captured through the Io; the env reaches the processes and
 *   threads it starts (the node, verify's worker). Most tests run commands this way: no Node and tsx
 *   start-up per command.
 * - `relupProcess(args, env, timeoutMs)`: `bin/relup.js` in a real child process, for what only a process
 *   shows: a command that keeps running or waits on signals, exit behaviour, TTY and colour detection,
 *   what it leaves in its own TMPDIR, and the smoke tests of the executable.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { runCli } from "../../src/cli/run-cli.ts";

export const BIN = path.join(import.meta.dirname, "..", "..", "bin", "relup.js");

/**
 * Node and the file that run relup from a shell (a workflow's `run:` step, `sh -c`): the CLI of the
 * tests' compiled copy of the sources (RELUP_COMPILED_SOURCES: plain node, no tsx start-up per command),
 * or bin/relup.js without one.
 */
export function shellRelupArgv(): [string, string] {
  const compiled = process.env.RELUP_COMPILED_SOURCES;
  return [process.execPath, compiled ? path.join(compiled, "cli", "main.js") : BIN];
}

/** The same as one string, for `$RELUP` (which the shell splits into words). */
export const shellRelup = (): string => shellRelupArgv().join(" ");

export interface RelupResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Read by Node from process.env, not from the env a run is given: only a child process can have its own. */
const PROCESS_ONLY = ["TMPDIR", "TMP", "TEMP", "NODE_OPTIONS"];

/**
 * `relup <args>` in this process. `timeoutMs` (0: none): fail if the command has not ended by then (it
 * cannot be killed in this process; use relupProcess for a command that may hang).
 */
export async function relup(args: string[], env: Record<string, string> = {}, timeoutMs = 0): Promise<RelupResult> {
  const processOnly = Object.keys(env).filter((name) => PROCESS_ONLY.includes(name));
  if (processOnly.length > 0) throw new Error(`relup(): ${processOnly.join(", ")} is read from the process's own environment; run the command with relupProcess()`);
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (text: string) => void out.push(text), err: (text: string) => void err.push(text), color: false, tty: false };
  const running = runCli(args, io, { ...process.env, NO_COLOR: "1", ...env });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    if (timeoutMs > 0) timer = setTimeout(() => reject(new Error(`relup ${args.join(" ")} did not end within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const code = await Promise.race([running, expired]);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    clearTimeout(timer);
  }
}

/** `relup <args>` as a child process. `timeoutMs` (0: none): kill it (SIGKILL) if it has not ended by then, so a hang fails its test and leaves no process. */
export async function relupProcess(args: string[], env: Record<string, string> = {}, timeoutMs = 0): Promise<RelupResult> {
  try {
    const options = { env: { ...process.env, NO_COLOR: "1", ...env }, timeout: timeoutMs, killSignal: "SIGKILL" as const };
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], options);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
