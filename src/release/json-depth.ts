/**
 * A bound on how deeply JSON from outside may nest. `JSON.parse` reads any depth, but zod's schemas, the
 * formatter and `JSON.stringify` recurse once per level, and some ten thousand levels overflow the stack
 * ("Maximum call stack size exceeded") far from where the input came in. Every JSON document relup reads
 * (relup.json plans, app.json, release.json, relup.config.json, RELEASES, the root's config.json) and
 * every control request is walked once, without recursion, right after `JSON.parse`; deeper input is bad
 * input. No file relup reads needs more than a dozen levels; 64 leaves room for deeply nested `env`.
 */
export const MAX_JSON_DEPTH = 64;

/** Where `value` first nests deeper than `limit` (the path to the first object or array past it), or undefined. */
export function jsonTooDeep(value: unknown, limit = MAX_JSON_DEPTH): PropertyKey[] | undefined {
  const stack: { value: unknown; depth: number; path: PropertyKey[] }[] = [{ value, depth: 0, path: [] }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value !== "object" || item.value === null) continue;
    const depth = item.depth + 1;
    if (depth > limit) return item.path;
    const entries: [PropertyKey, unknown][] = Array.isArray(item.value) ? item.value.map((v, i) => [i, v]) : Object.entries(item.value);
    for (const [key, child] of entries) if (typeof child === "object" && child !== null) stack.push({ value: child, depth, path: [...item.path, key] });
  }
  return undefined;
}

/** What is wrong with over-deep JSON, for a file or a request. */
export function tooDeepDetail(limit = MAX_JSON_DEPTH): string {
  return `nests objects and arrays more than ${limit} levels deep; relup reads JSON up to ${limit} levels`;
}
