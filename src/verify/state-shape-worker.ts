/**
 * A worker thread that loads server modules of a release being built and describes the `stateSchema`
 * each exports (describe-state-schema.ts), so that user code never runs in the build's own thread.
 * Posts one answer with every module's shape, or why it could not be read.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { StateShape } from "../release/state-shape.ts";
import { describeStateSchema } from "./describe-state-schema.ts";
import { exportsOf, loadTable, type ReleaseCode } from "./release-modules.ts";
import { isZodSchema } from "./zod-arbitrary.ts";

export interface ShapeJob {
  release: ReleaseCode;
  modules: string[];
}

export type ShapeAnswer = { module: string; shape: StateShape } | { module: string; problem: "not-zod" | "load-failed"; detail: string };

function describe(job: ShapeJob): ShapeAnswer[] {
  const table = loadTable(job.release);
  return job.modules.map((module): ShapeAnswer => {
    let schema: unknown;
    try {
      schema = exportsOf(table, job.release, module).stateSchema;
    } catch (error) {
      return { module, problem: "load-failed", detail: (error as Error).message };
    }
    if (!isZodSchema(schema)) return { module, problem: "not-zod", detail: schema === undefined ? "is undefined" : `is ${typeof schema === "object" ? "an object" : `a ${typeof schema}`} without zod's \`_zod.def\`` };
    try {
      return { module, shape: describeStateSchema(schema) };
    } catch (error) {
      return { module, problem: "load-failed", detail: `describing it failed: ${(error as Error).message}` };
    }
  });
}

parentPort!.postMessage(describe(workerData as ShapeJob));
