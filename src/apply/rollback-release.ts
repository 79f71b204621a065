/**
 * `relup rollback`: have the running node go back to the release it was upgraded from, live, by the down
 * section of the plan that brought it here. Like apply: `codeChangeTimeout` overrides the plan's for
 * every module, progress is reported, the processes its purges kill are returned, `dryRun` runs only the
 * node's preflight, and a node that dies on the way (its launcher's watchdog kills one that stops
 * answering) is reported with what was lost (see node-lost.ts).
 */
import path from "node:path";
import { controlRequest } from "../runtime/control-client.ts";
import type { Progress } from "../runtime/executor.ts";
import type { CheckResult, RollbackResult } from "../runtime/release-handler.ts";
import type { Timeout } from "../runtime/runtime.ts";
import { requestWatchingSteps } from "./node-lost.ts";

export interface RollbackOptions {
  root: string;
  /** how long each process's codeChange may take in this rollback, overriding the plan's timeouts */
  codeChangeTimeout?: Timeout;
  /** only check: what would run and what would be killed, changing nothing */
  dryRun?: boolean;
  progress?: (event: Progress) => void;
  /** the longest silence of the node during the rollback (see controlRequest); for tests */
  silenceMs?: number;
}

export type RollbackOutcome = ({ dryRun: false } & RollbackResult) | ({ dryRun: true; from: string; to: string } & CheckResult);

export async function rollbackRelease(options: RollbackOptions): Promise<RollbackOutcome> {
  const root = path.resolve(options.root);
  const timeout = options.silenceMs !== undefined ? { timeout: options.silenceMs } : {};
  const request = { cmd: "rollback" as const, ...(options.codeChangeTimeout !== undefined ? { codeChangeTimeout: options.codeChangeTimeout } : {}) };
  if (options.dryRun) {
    const check = await controlRequest(root, { ...request, dryRun: true }, timeout);
    return { dryRun: true, ...check };
  }
  const status = await controlRequest(root, { cmd: "status" });
  // Where it goes, to say so if the node dies on the way (the preflight also refuses a rollback that cannot run, before any change).
  const { from: running, to: target } = await controlRequest(root, { ...request, dryRun: true }, timeout);
  const before = { pid: status.pid, version: running, processCount: status.processCount, target, rollback: true };
  const result = await requestWatchingSteps(root, request, before, { ...timeout, ...(options.progress ? { progress: options.progress } : {}) });
  return { dryRun: false, ...result };
}
