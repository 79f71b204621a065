/**
 * Comparing two states: where they first differ, for the messages of `relup verify`.
 *
 * Plain data is compared by value: objects by their own enumerable keys (a key whose value is
 * `undefined` counts as absent, as zod's optional fields do), arrays by index, Maps and Sets by
 * their entries whatever the insertion order (entries that are objects matched by value), Dates by time, numbers with SameValueZero (NaN equals
 * NaN, 0 equals -0). Anything else (class instances, functions) falls back to node's deep-strict
 * equality.
 */
import { inspect, isDeepStrictEqual } from "node:util";

export interface StateDifference {
  /** where, from the state's root: `.counts`, `[2]`, `<"key">` for a Map entry */
  path: string;
  expected: unknown;
  actual: unknown;
}

export const ABSENT = Symbol("absent");

export interface DiffOptions {
  /** keys of plain objects present in `actual` only are not a difference (what a stripping zod object drops) */
  allowExtraKeys?: boolean;
}

export function firstDifference(expected: unknown, actual: unknown, path = "", options: DiffOptions = {}): StateDifference | undefined {
  if (sameValueZero(expected, actual)) return undefined;
  const differ = { path: path || "(the whole state)", expected, actual };
  if (typeof expected !== "object" || typeof actual !== "object" || expected === null || actual === null) return differ;
  // A plain object and one without a prototype hold the same data (a copy gives the latter a prototype).
  if (Object.getPrototypeOf(expected) !== Object.getPrototypeOf(actual) && !(isPlain(expected) && isPlain(actual))) return differ;
  if (expected instanceof Date) return expected.getTime() === (actual as Date).getTime() ? undefined : differ;
  if (Array.isArray(expected)) {
    const other = actual as unknown[];
    for (let k = 0; k < Math.max(expected.length, other.length); k++) {
      const d = firstDifference(k < expected.length ? expected[k] : ABSENT, k < other.length ? other[k] : ABSENT, `${path}[${k}]`, options);
      if (d) return d;
    }
    return undefined;
  }
  if (expected instanceof Map) {
    const other = actual as Map<unknown, unknown>;
    // Keys that are objects are matched by value, as copies of a state have copies of its keys.
    const otherKeys = unmatchedObjects(other.keys());
    const matched = new Set<unknown>();
    for (const [key, value] of expected) {
      const twin = other.has(key) ? key : findEqual(key, otherKeys, matched);
      if (twin !== ABSENT) matched.add(twin);
      const d = firstDifference(value, twin !== ABSENT ? other.get(twin) : ABSENT, `${path}<${keyText(key)}>`, options);
      if (d) return d;
    }
    for (const key of other.keys()) if (!expected.has(key) && !matched.has(key)) return { path: `${path}<${keyText(key)}>`, expected: ABSENT, actual: other.get(key) };
    return undefined;
  }
  if (expected instanceof Set) {
    const other = actual as Set<unknown>;
    const otherObjects = unmatchedObjects(other.values());
    const matched = new Set<unknown>();
    for (const value of expected) {
      const twin = other.has(value) ? value : findEqual(value, otherObjects, matched);
      if (twin === ABSENT) return { path: `${path}{${keyText(value)}}`, expected: value, actual: ABSENT };
      matched.add(twin);
    }
    for (const value of other) if (!expected.has(value) && !matched.has(value)) return { path: `${path}{${keyText(value)}}`, expected: ABSENT, actual: value };
    return undefined;
  }
  if (isPlain(expected)) {
    const a = expected as Record<string, unknown>;
    const b = actual as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(a), ...(options.allowExtraKeys ? [] : Object.keys(b))])].sort();
    for (const key of keys) {
      const d = firstDifference(a[key] === undefined ? ABSENT : a[key], b[key] === undefined ? ABSENT : b[key], `${path}.${key}`, options);
      if (d) return d;
    }
    return undefined;
  }
  return isDeepStrictEqual(expected, actual) ? undefined : differ;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function unmatchedObjects(values: Iterable<unknown>): unknown[] {
  return [...values].filter((v) => typeof v === "object" && v !== null);
}

/** An entry of `candidates` equal by value to `value` and not yet matched, or ABSENT. */
function findEqual(value: unknown, candidates: readonly unknown[], matched: ReadonlySet<unknown>): unknown {
  if (typeof value !== "object" || value === null) return ABSENT;
  for (const candidate of candidates) if (!matched.has(candidate) && firstDifference(value, candidate) === undefined) return candidate;
  return ABSENT;
}

function sameValueZero(a: unknown, b: unknown): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function keyText(key: unknown): string {
  if (typeof key === "string") return JSON.stringify(key);
  if (typeof key === "bigint") return `${key}n`;
  if (typeof key === "object" && key !== null) return inspect(key, { depth: 2, breakLength: Infinity });
  return String(key);
}
