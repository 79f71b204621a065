/** The command line as a user runs it: `bin/relup.js` in a real child process, with its exit code and output. */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

export const BIN = path.join(import.meta.dirname, "..", "..", "bin", "relup.js");

/** `timeoutMs` (0: none): kill the command (SIGKILL) if it has not ended by then, so a hang fails its test and leaves no process. */
export async function relup(args: string[], env: Record<string, string> = {}, timeoutMs = 0): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const options = { env: { ...process.env, NO_COLOR: "1", ...env }, timeout: timeoutMs, killSignal: "SIGKILL" as const };
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], options);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
