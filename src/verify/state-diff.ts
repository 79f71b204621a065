/**
 * Comparing two states: where they first differ, for the messages of `relup verify`.
 *
 * Plain data is compared by value: objects by their own enumerable keys (a key whose value is
 * `undefined` counts as absent, as zod's optional fields do), arrays by index, Maps and Sets by
 * their entries whatever the insertion order, Dates by time, numbers with SameValueZero (NaN equals
 * NaN, 0 equals -0). Anything else (class instances, functions) falls back to node's deep-strict
 * equality.
 */
import { isDeepStrictEqual } from "node:util";

export interface StateDifference {
  /** where, from the state's root: `.counts`, `[2]`, `<"key">` for a Map entry */
  path: string;
  expected: unknown;
  actual: unknown;
}

export const ABSENT = Symbol("absent");

export function firstDifference(expected: unknown, actual: unknown, path = ""): StateDifference | undefined {
  if (sameValueZero(expected, actual)) return undefined;
  const differ = { path: path || "(the whole state)", expected, actual };
  if (typeof expected !== "object" || typeof actual !== "object" || expected === null || actual === null) return differ;
  if (Object.getPrototypeOf(expected) !== Object.getPrototypeOf(actual)) return differ;
  if (expected instanceof Date) return expected.getTime() === (actual as Date).getTime() ? undefined : differ;
  if (Array.isArray(expected)) {
    const other = actual as unknown[];
    for (let k = 0; k < Math.max(expected.length, other.length); k++) {
      const d = firstDifference(k < expected.length ? expected[k] : ABSENT, k < other.length ? other[k] : ABSENT, `${path}[${k}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (expected instanceof Map) {
    const other = actual as Map<unknown, unknown>;
    for (const [key, value] of expected) {
      const d = firstDifference(value, other.has(key) ? other.get(key) : ABSENT, `${path}<${keyText(key)}>`);
      if (d) return d;
    }
    for (const key of other.keys()) if (!expected.has(key)) return { path: `${path}<${keyText(key)}>`, expected: ABSENT, actual: other.get(key) };
    return undefined;
  }
  if (expected instanceof Set) {
    const other = actual as Set<unknown>;
    for (const value of expected) if (!other.has(value)) return { path: `${path}{${keyText(value)}}`, expected: value, actual: ABSENT };
    for (const value of other) if (!expected.has(value)) return { path: `${path}{${keyText(value)}}`, expected: ABSENT, actual: value };
    return undefined;
  }
  if (Object.getPrototypeOf(expected) === Object.prototype || Object.getPrototypeOf(expected) === null) {
    const a = expected as Record<string, unknown>;
    const b = actual as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const d = firstDifference(a[key] === undefined ? ABSENT : a[key], b[key] === undefined ? ABSENT : b[key], `${path}.${key}`);
      if (d) return d;
    }
    return undefined;
  }
  return isDeepStrictEqual(expected, actual) ? undefined : differ;
}

function sameValueZero(a: unknown, b: unknown): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function keyText(key: unknown): string {
  return typeof key === "string" ? JSON.stringify(key) : typeof key === "bigint" ? `${key}n` : String(key);
}
