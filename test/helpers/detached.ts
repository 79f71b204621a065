/**
 * Detached launchers a test started (`relup start --detach`), stopped after each test whatever
 * happened: SIGTERM, which stops their node first. Track one by its pid or by its root's launcher.pid.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach } from "vitest";
import { waitForExit } from "../../src/runtime/process-exit.ts";

export function useDetachedLaunchers(): { pid: (pid: number) => void; root: (root: string) => void } {
  const pids: number[] = [];
  const roots: string[] = [];
  afterEach(async () => {
    for (const root of roots.splice(0)) {
      const pid = Number((await readFile(path.join(root, "run", "launcher.pid"), "utf8").catch(() => "")).trim());
      if (pid > 0) pids.push(pid);
    }
    for (const pid of pids.splice(0)) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        continue;
      }
      await waitForExit(pid, 20_000);
    }
  });
  return { pid: (pid) => void pids.push(pid), root: (root) => void roots.push(root) };
}
