/**
 * npm's `overrides` (package.json), as npm applies them, so the build can check that the installed
 * packages are the ones they ask for:
 * - `"name": "range"` at the top sets the range of every dependency on `name` in the tree;
 * - `"parent": { "name": "range" }` sets it only below `parent` (at any depth); `"parent": { ".": "range",
 *   ... }` also sets `parent`'s own; rules nearer the dependency win;
 * - a key `name@range` applies to a dependency whose requested range meets `range`, and below a package
 *   whose version satisfies it;
 * - `"$name"` stands for the range the project's own dependency on `name` asks for.
 */
import path from "node:path";
import semver from "semver";
import { z } from "zod";
import { ReleaseError } from "./issues.ts";

type Rules = { [key: string]: string | Rules };
const Rules: z.ZodType<Rules> = z.lazy(() => z.record(z.string(), z.union([z.string(), Rules])));

/** The override rules in effect at one place of the tree, outermost first, each with its field path. */
export type OverrideScope = readonly { rules: Rules; field: string }[];

/** What an override asks of one dependency: the range, and the package.json field that says so. */
export interface OverrideRule {
  range: string;
  field: string;
}

/** The scope at the project's top, from package.json `overrides` (refused, naming the field, if it is not npm's shape). */
export function rootOverrideScope(projectDir: string, overrides: unknown): OverrideScope {
  if (overrides === undefined) return [];
  const parsed = Rules.safeParse(overrides);
  if (!parsed.success) {
    const field = ["overrides", ...deepestPath(parsed.error.issues[0]!)].join(".");
    throw new ReleaseError([{ code: "build-failed", file: path.join(projectDir, "package.json"), field, detail: "npm overrides map a package name to a version range or to an object of more overrides", fix: "fix the field as npm's documentation of `overrides` describes, then run `npm install`" }]);
  }
  return [{ rules: parsed.data, field: "overrides" }];
}

/** The rule for a dependency on `name` that asks for `requested` (undefined: the project's own), the nearest first. */
export function overrideRule(scope: OverrideScope, name: string, requested: string | undefined, direct: Readonly<Record<string, string>>): OverrideRule | "unknown" | undefined {
  for (let i = scope.length - 1; i >= 0; i--) {
    const { rules, field } = scope[i]!;
    for (const [key, value] of Object.entries(rules)) {
      if (!keyMatches(key, name, (range) => requested === undefined || rangesMeet(requested, range))) continue;
      const range = typeof value === "string" ? value : value["."];
      if (typeof range !== "string") continue;
      const resolved = range.startsWith("$") ? direct[range.slice(1)] : range;
      if (resolved === undefined) return "unknown";
      return { range: resolved, field: `${field}.${key}${typeof value === "string" ? "" : '["."]'}` };
    }
  }
  return undefined;
}

/** The scope below package `name` at `version`: the one above, and the rules nested under a key that names it. */
export function childScope(scope: OverrideScope, name: string, version: string): OverrideScope {
  const nested = scope.flatMap(({ rules, field }) =>
    Object.entries(rules)
      .filter((entry): entry is [string, Rules] => typeof entry[1] === "object" && keyMatches(entry[0], name, (range) => semver.satisfies(version, range, { includePrerelease: true })))
      .map(([key, rules]) => ({ rules, field: `${field}.${key}` })),
  );
  return nested.length === 0 ? scope : [...scope, ...nested];
}

/** The path of the innermost value a zod issue is about (a union's own issue names only where it starts). */
function deepestPath(issue: z.core.$ZodIssue): string[] {
  const here = issue.path.map(String);
  if (issue.code !== "invalid_union") return here;
  const inner = issue.errors.flat().map(deepestPath);
  return [...here, ...inner.reduce((a, b) => (b.length > a.length ? b : a), [])];
}

function keyMatches(key: string, name: string, rangeMatches: (range: string) => boolean): boolean {
  if (key === name) return true;
  if (!key.startsWith(`${name}@`)) return false;
  const range = key.slice(name.length + 1);
  return semver.validRange(range) !== null && rangeMatches(range);
}

function rangesMeet(a: string, b: string): boolean {
  try {
    return semver.validRange(a) === null || semver.intersects(a, b, { includePrerelease: true });
  } catch {
    return true;
  }
}
