/**
 * Whether an OS process other than our child (so with no exit event to wait on) is gone within
 * `timeoutMs`: `process.kill(pid, 0)` fails once it has exited.
 */
import { setTimeout as delay } from "node:timers/promises";

export async function waitForExit(pid: number, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await delay(20);
  }
}
