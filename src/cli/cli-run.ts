/**
 * What one run of the command line shares with its commands besides where they print (Io): the
 * environment of the processes and threads it starts, and the exit code a command chose without failing.
 * Nothing in it is process-wide, so several runs in one process (tests) leave nothing to each other.
 */
export interface CliRun {
  /** the environment the node, its launcher and verify's worker get (the CLI's: process.env) */
  env: NodeJS.ProcessEnv;
  /** set by a command that succeeded with another code than 0 (verify's report, generate --detailed-exitcode) */
  exitCode: number | undefined;
}
