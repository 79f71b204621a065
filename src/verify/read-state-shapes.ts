/**
 * The structure of the `stateSchema` of server modules of a built (or staged) release, read by loading
 * them in a worker thread: the build records it in app.json as `stateShape`, so that plan generation
 * compares two versions without running user code. A worker that answers nothing for `stallMs` (a
 * module whose top-level code never ends) is stopped, and every module it was reading fails.
 */
import { Worker } from "node:worker_threads";
import { workerEntry } from "../runtime/entry-args.ts";
import type { ReleaseCode } from "./release-modules.ts";
import type { ShapeAnswer, ShapeJob } from "./state-shape-worker.ts";

export type { ShapeAnswer } from "./state-shape-worker.ts";

const ENTRY = workerEntry(import.meta.dirname, "state-shape-worker");
export const SHAPE_STALL_MS = 30_000;

export function readStateShapes(release: ReleaseCode, modules: string[], stallMs = SHAPE_STALL_MS): Promise<ShapeAnswer[]> {
  if (modules.length === 0) return Promise.resolve([]);
  const failAll = (detail: string): ShapeAnswer[] => modules.map((module) => ({ module, problem: "load-failed", detail }));
  return new Promise((resolve) => {
    const worker = new Worker(ENTRY, { workerData: { release, modules } satisfies ShapeJob, stdout: true, stderr: true });
    // What module code prints at load goes to stderr, so that the build's own output stays its report.
    worker.stdout.pipe(process.stderr, { end: false });
    worker.stderr.pipe(process.stderr, { end: false });
    let settled = false;
    const settle = (answers: ShapeAnswer[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(stall);
      void worker.terminate();
      resolve(answers);
    };
    const stall = setTimeout(() => settle(failAll(`loading it did not finish within ${stallMs} ms (does its top-level code, or that of a module it imports, never end?)`)), stallMs);
    worker.on("message", (answers: ShapeAnswer[]) => settle(answers));
    worker.on("error", (error) => settle(failAll(`the module failed outside its exports: ${error.message}`)));
    worker.on("exit", (code) => settle(failAll(`the worker that loads it ended (exit code ${code}; does its code call process.exit?)`)));
  });
}
