/**
 * Whether an OS process other than our child (so with no exit event to wait on) is gone within
 * `timeoutMs`: `process.kill(pid, 0)` fails once it has exited.
 */
import { setTimeout as delay } from "node:timers/promises";

/** Whether an OS process with this pid exists now. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitForExit(pid: number, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(pid)) return true;
    if (Date.now() > deadline) return false;
    await delay(20);
  }
}
