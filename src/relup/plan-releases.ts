/**
 * The IO edge of plan generation: read two releases (directories or tarballs) with the safe reader,
 * generate the plan, and compare it with a committed relup.json (`--check`).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isDeepStrictEqual } from "node:util";
import { createTwoFilesPatch } from "diff";
import { toJsonText } from "../release/fs-utils.ts";
import { ExitCode, UserError } from "../errors.ts";
import { generatePlan, type Plan } from "./generate-plan.ts";
import { PlanError } from "./issues.ts";
import { loadReleaseModel } from "./load-release-model.ts";
import { relupFileText } from "./relup-file-io.ts";
import { jsonTooDeep, tooDeepDetail } from "../release/json-depth.ts";

export async function planReleases(options: { from: string; to: string }): Promise<Plan> {
  const from = await loadReleaseModel(options.from);
  const to = await loadReleaseModel(options.to);
  const result = generatePlan(from, to);
  if (!result.ok) throw new PlanError(result.issues);
  return result.value;
}

/** Whether the plan has anything to do besides the point of no return. */
export function planHasChanges(plan: Plan): boolean {
  return [...plan.file.up, ...plan.file.down].some((i) => i.op !== "point_of_no_return");
}

/** A committed relup.json differs from the one generated now: a readable unified diff, or undefined when equal. */
export async function driftOf(plan: Plan, committed: string): Promise<string | undefined> {
  if (!existsSync(committed)) {
    throw new UserError(`${committed}: not found; \`--check\` compares the committed plan with a fresh one. Fix: write it first with \`relup generate <from> <to> -o ${committed}\`.`, ExitCode.badInput);
  }
  // Compared as JSON, so a reformatted file (indentation, line endings, final newline) is not drift.
  const text = await readFile(committed, "utf8");
  let committedJson: unknown;
  try {
    committedJson = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${committed}: is not valid JSON (${(error as Error).message}). Fix: write it again with \`relup generate <from> <to> -o ${committed}\`.`, ExitCode.checkFailed);
  }
  // Before comparing and printing it, which recurse once per level.
  if (jsonTooDeep(committedJson)) {
    throw new UserError(`${committed}: ${tooDeepDetail()}. Fix: write it again with \`relup generate <from> <to> -o ${committed}\`.`, ExitCode.badInput);
  }
  if (isDeepStrictEqual(committedJson, JSON.parse(JSON.stringify(plan.file)))) return undefined;
  const before = toJsonText(committedJson);
  const after = relupFileText(plan.file);
  return createTwoFilesPatch(`${committed} (committed)`, `${committed} (generated now)`, before, after, undefined, undefined, { context: 3 });
}
