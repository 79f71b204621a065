/**
 * Parse a JSON document against a strict zod schema, turning every failure into ReleaseIssues that name
 * the file and the field. Used for release.json, app.json and relup.config.json alike.
 */
import type { z } from "zod";
import type { ReleaseIssue } from "./issues.ts";
import { jsonTooDeep, MAX_JSON_DEPTH, tooDeepDetail } from "./json-depth.ts";

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: ReleaseIssue[] };

/** `fix` says what to do about a bad file; the default suits files the build writes. */
export function parseJsonFile<S extends z.ZodType>(file: string, text: string, schema: S, fix?: string): Parsed<z.output<S>> {
  const withFix = fix === undefined ? {} : { fix };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, issues: [{ code: "invalid-json", file, detail: (error as Error).message, ...withFix }] };
  }
  // Before the schema: zod recurses once per level and overflows the stack on some thousands of them.
  const deep = jsonTooDeep(data);
  if (deep) {
    const field = (fieldPath(deep.slice(0, 6)) || "(document)") + (deep.length > 6 ? ` … (${deep.length} levels down)` : "");
    const flatten = `flatten that value to at most ${MAX_JSON_DEPTH} levels of nesting (docs/reference.md, Limits)`;
    return { ok: false, issues: [{ code: "invalid-field", file, field, detail: tooDeepDetail(), fix: fix ? `${flatten}; ${fix}` : `${flatten}.` }] };
  }
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, issues: result.error.issues.map((i) => ({ ...zodIssue(file, i), ...withFix })) };
}

function zodIssue(file: string, issue: z.core.$ZodIssue): ReleaseIssue {
  const field = issue.path.length === 0 ? "(document)" : fieldPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    return { code: "invalid-field", file, field, detail: `has unknown field${issue.keys.length > 1 ? "s" : ""} ${keys}` };
  }
  return { code: "invalid-field", file, field, detail: issue.message };
}

/** `applications[0].version`, `files["lib/a-1.0.0/x.js"]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}
