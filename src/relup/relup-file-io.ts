/** Reading and writing relup.json: strict parse, deterministic text. */
import { readFile } from "node:fs/promises";
import { ReleaseError } from "../release/issues.ts";
import { parseJsonFile } from "../release/parse-json-file.ts";
import { toJsonText } from "../release/fs-utils.ts";
import { RelupFile } from "./instruction.ts";

/** A plan file is made by `relup generate`, and edited by hand at most: what to do when it does not parse. */
const PLAN_FILE_FIX = "correct the field (docs/reference.md#relupjson lists them), or write the plan again with `relup generate <from release> <to release> -o <file>`.";

export function relupFileText(file: RelupFile): string {
  return toJsonText(file);
}

export async function readRelupFile(path: string): Promise<RelupFile> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new ReleaseError([{ code: "missing-file", file: path, why: error.code === "ENOENT" ? "no such file" : error.message, fix: "check the path, or write the plan with `relup generate <from release> <to release> -o plans/` (it writes plans/<from>-<to>.json)." }]);
  });
  const parsed = parseJsonFile(path, text, RelupFile, PLAN_FILE_FIX);
  if (!parsed.ok) throw new ReleaseError(parsed.issues);
  return parsed.value;
}
