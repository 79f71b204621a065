/**
 * `relup generate` as one library call: read the two releases, generate the plan (and verify its state
 * migrations when asked), then compare it with the committed file (`check`) or write it (`out`). Returns
 * what the command renders; the command chooses the view and the exit code.
 *
 * `out` names a file, or a folder (an existing one, or a path ending in `/`): the plan then goes to
 * `<folder>/<from>-<to>.json`, the name the build ships it under and `apply` looks it up by.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { ExitCode, UserError } from "../errors.ts";
import { planFileName } from "../release/release-file.ts";
import type { VerifyReport } from "../verify/report.ts";
import { verifyReleasesWithPlan } from "../verify/verify-releases.ts";
import type { Plan } from "./generate-plan.ts";
import { driftOf, planReleases } from "./plan-releases.ts";
import { relupFileText } from "./relup-file-io.ts";

export interface GenerateOptions {
  from: string;
  to: string;
  /** the plan file, or a folder for `<from>-<to>.json` */
  out?: string;
  /** compare with the committed `out` instead of writing it */
  check?: boolean;
  /** also verify the state migrations (not with `check`, which compares files only) */
  verify?: boolean;
  /** verify's seed (default: verify's fixed seed) */
  seed?: number;
  /** verify's worker: its environment and where what the release's code prints goes (VerifyOptions) */
  env?: NodeJS.ProcessEnv;
  output?: (text: string) => void;
}

export interface GenerateResult {
  plan: Plan;
  /** with `verify`: the verification of the plan's state migrations */
  report?: VerifyReport;
  /** with `check`: the committed file, and its difference from the plan generated now (none: up to date) */
  check?: { file: string; drift?: string };
  /** the file the plan was written to */
  wrote?: string;
}

export async function generateForReview(options: GenerateOptions): Promise<GenerateResult> {
  // With verify the releases are read once, for the plan and its verification together.
  const verified = options.verify && !options.check ? await verifyReleasesWithPlan({ from: options.from, to: options.to, ...(options.seed !== undefined ? { seed: options.seed } : {}), ...(options.env !== undefined ? { env: options.env } : {}), ...(options.output !== undefined ? { output: options.output } : {}) }) : undefined;
  const plan = verified?.plan ?? (await planReleases({ from: options.from, to: options.to }));
  const report = verified ? { report: verified.report } : {};
  if (options.out === undefined) return { plan, ...report };
  const file = planPath(options.out, plan);
  if (options.check) {
    const drift = await driftOf(plan, file);
    return { plan, check: { file, ...(drift !== undefined ? { drift } : {}) } };
  }
  try {
    // `-o plans/` (or `-o plans`) makes the folder: the first plan of a project creates it.
    if (file !== options.out) await mkdir(options.out, { recursive: true });
    await writeFile(file, relupFileText(plan.file));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new UserError(`${file}: cannot write the plan (${e.code ?? e.message}). Fix: check that its folder exists and is writable.`, ExitCode.badInput);
  }
  return { plan, ...report, wrote: file };
}

/**
 * Where `-o` puts the plan: a `.json` path is the file itself; anything else is a folder (made if
 * missing) that gets `<from>-<to>.json`, so that `-o plans` never writes a file named `plans`.
 */
export function planPath(out: string, plan: Plan): string {
  const isFolder = !out.endsWith(".json") || (existsSync(out) && statSync(out).isDirectory());
  return isFolder ? path.join(out, planFileName(plan.file.from.version, plan.file.to.version)) : out;
}
