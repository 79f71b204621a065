/**
 * Arbitrary values of a zod 4 schema, for fast-check: the generator behind `relup verify`.
 *
 * It reads the schema's definition (`schema._zod.def`) rather than zod's classes, so a schema made with
 * the zod that `relup/runtime` exports and one made with a project's own zod 4 are read alike. Each
 * kind of schema maps to the fast-check arbitrary of its values; checks that have a direct counterpart
 * (lengths, bounds, integer formats, patterns) become constraints of that arbitrary, and every other
 * check or refinement becomes a filter through the schema itself. The values handed out are what the
 * schema's `parse` returns for them (defaults filled in, unknown keys stripped), so that a generated
 * state is one the module's own code could hold; where a transform's output would not pass the schema
 * again, the input is handed out instead. Every value handed out passes `safeParse`.
 *
 * Recursive schemas (`z.lazy`) are cut off below a fixed depth: there, collections are empty and
 * optional values absent.
 */
import fc from "fast-check";
import type { Seeds } from "./live-seeds.ts";

/** The parts of a zod 4 schema this module reads. */
export interface ZodLike {
  _zod: { def: ZodDef };
  safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { issues: ZodIssueLike[] } };
}

export interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
}

interface ZodDef {
  type: string;
  check?: string;
  checks?: { _zod: { def: CheckDef } }[];
  [key: string]: unknown;
}

interface CheckDef {
  check: string;
  [key: string]: unknown;
}

export class UnsupportedSchemaError extends Error {
  override readonly name = "UnsupportedSchemaError";
  constructor(
    readonly path: string,
    readonly kind: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** Whether `value` is a zod 4 schema. */
export function isZodSchema(value: unknown): value is ZodLike {
  const zod = (value as { _zod?: { def?: { type?: unknown } } } | null)?._zod;
  return typeof zod?.def?.type === "string" && typeof (value as ZodLike).safeParse === "function";
}

/** How deep a recursive (`z.lazy`) schema is followed before its collections are kept empty. */
const MAX_DEPTH = 3;
/** Bounds for collections without their own: enough to find bugs, small enough to shrink fast. */
const MAX_ITEMS = 10;

interface Context {
  depth: number;
  /** values from live states (`--live`), drawn half of the time for the leaves they fit */
  seeds?: Seeds;
  /** a lazy schema's getter is called once and its arbitrary built once per depth */
  lazy: Map<unknown, fc.Arbitrary<unknown>[]>;
}

/**
 * Arbitrary values of `schema`, as its `parse` returns them, or REJECTED where the schema's refinements
 * turned down what was generated: a property skips those (`fc.pre`), so that a schema whose refinements
 * reject almost everything ends in fast-check's "too many skips" rather than in an endless retry.
 * Throws UnsupportedSchemaError for kinds that have no values to generate.
 */
export function arbitraryOf(schema: ZodLike, seeds?: Seeds): fc.Arbitrary<unknown> {
  const input = build(schema, "stateSchema", { depth: 0, lazy: new Map(), ...(seeds ? { seeds } : {}) });
  return input.map((value) => {
    if (value === REJECTED) return REJECTED;
    const parsed = schema.safeParse(value);
    if (!parsed.success) return REJECTED;
    // A transform's output need not pass the schema again; then the input is the state.
    return parsed.data === value || schema.safeParse(parsed.data).success ? parsed.data : value;
  });
}

export const REJECTED = Symbol("rejected");

/** How many candidates a refined schema draws before it gives up on a value (then the whole state is skipped). */
const CANDIDATES = 10;

/** Values of `arbitrary` that `accept` takes: the first of a few candidates, or REJECTED. Never loops. */
function refined(arbitrary: fc.Arbitrary<unknown>, accept: (value: unknown) => boolean): fc.Arbitrary<unknown> {
  return fc.array(arbitrary, { minLength: 1, maxLength: CANDIDATES }).map((candidates) => candidates.find(accept) ?? REJECTED);
}

function build(schema: ZodLike, path: string, ctx: Context): fc.Arbitrary<unknown> {
  const def = schema._zod.def;
  // A format schema (`z.int()`, `z.email()`) is itself a check, besides those added to it.
  const checks = [...(typeof def.check === "string" ? [def as unknown as CheckDef] : []), ...(def.checks ?? []).map((c) => c._zod.def)];
  const base = buildBase(schema, def, checks, path, ctx);
  // Checks with no counterpart in the arbitrary (refinements, formats without a pattern) filter.
  const understood = checks.every((c) => UNDERSTOOD_CHECKS.has(c.check));
  const arbitrary = understood ? base : refined(base, (value) => schema.safeParse(value).success);
  return ctx.seeds && SEEDED_KINDS.has(def.type) ? seeded(arbitrary, schema, path, ctx.seeds) : arbitrary;
}

/** A generator path without union branches and intersection sides, which a state does not show: where live values are filed. */
export function seedSlot(path: string): string {
  return path.replace(/\|\d*/g, "").replace(/&/g, "");
}

const SEEDED_KINDS: ReadonlySet<string> = new Set(["string", "template_literal", "number", "bigint", "date"]);

/**
 * A leaf that also draws from values of live states: those found at this place of the schema, else
 * any that fit it. Half of the values come from them. Cross-shrinking lets a value from the states
 * shrink toward the simplest random one, so a shrunk state keeps a live value only where it matters.
 */
function seeded(arbitrary: fc.Arbitrary<unknown>, schema: ZodLike, path: string, seeds: Seeds): fc.Arbitrary<unknown> {
  const fits = (value: unknown) => schema.safeParse(value).success;
  const here = (seeds.at.get(seedSlot(path)) ?? []).filter(fits);
  const values = here.length > 0 ? here : seeds.pool.filter(fits);
  return values.length === 0 ? arbitrary : fc.oneof({ withCrossShrink: true }, arbitrary, fc.constantFrom(...values));
}

const UNDERSTOOD_CHECKS = new Set(["min_length", "max_length", "length_equals", "greater_than", "less_than", "number_format", "min_size", "max_size", "size_equals"]);

function buildBase(schema: ZodLike, def: ZodDef, checks: CheckDef[], path: string, ctx: Context): fc.Arbitrary<unknown> {
  const child = (s: unknown, p: string, deeper = ctx) => build(s as ZodLike, p, deeper);
  const shallow = ctx.depth >= MAX_DEPTH;
  if (ctx.depth > MAX_DEPTH + 8) {
    throw new UnsupportedSchemaError(path, def.type, "a recursive schema with no way to end (every branch recurses). Fix: make the recursion optional, nullable, a union with a plain case, or a collection that may be empty.");
  }
  switch (def.type) {
    case "string":
      return stringArbitrary(def, checks, path);
    case "number":
      return numberArbitrary(checks, path);
    case "bigint":
      return fc.bigInt(bigintBounds(checks));
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "undefined":
    case "void":
      return fc.constant(undefined);
    case "nan":
      return fc.constant(Number.NaN);
    case "date": {
      let min = new Date(0);
      let max = new Date(Date.UTC(2100, 0, 1));
      for (const c of checks) {
        if (c.check === "greater_than" && c.value instanceof Date) min = new Date(c.value.getTime() + (c.inclusive ? 0 : 1));
        if (c.check === "less_than" && c.value instanceof Date) max = new Date(c.value.getTime() - (c.inclusive ? 0 : 1));
      }
      // Bounds outside the default window move it: a schema of future dates gets future dates.
      if (min > max) [min, max] = checks.some((c) => c.check === "less_than") ? [new Date(max.getTime() - 100 * 365 * 86_400_000), max] : [min, new Date(min.getTime() + 100 * 365 * 86_400_000)];
      return fc.date({ noInvalidDate: true, min, max });
    }
    case "literal":
      return fc.constantFrom(...(def.values as unknown[]));
    case "enum":
      return fc.constantFrom(...Object.values(def.entries as Record<string, unknown>));
    case "any":
    case "unknown":
      return fc.jsonValue({ maxDepth: 2 });
    case "array": {
      const { minLength, maxLength } = lengthBounds(checks);
      return fc.array(child(def.element, `${path}[]`), { minLength, maxLength: shallow ? minLength : maxLength });
    }
    case "tuple": {
      const items = (def.items as unknown[]).map((s, k) => child(s, `${path}[${k}]`));
      if (!def.rest) return fc.tuple(...items);
      const rest = fc.array(child(def.rest, `${path}[...]`), { maxLength: shallow ? 0 : 3 });
      return fc.tuple(fc.tuple(...items), rest).map(([head, tail]) => [...head, ...tail]);
    }
    case "set": {
      const { minLength, maxLength } = sizeBounds(checks);
      return fc.uniqueArray(child(def.valueType, `${path}<value>`), { minLength, maxLength: shallow ? minLength : maxLength }).map((values) => new Set(values));
    }
    case "map": {
      const { minLength, maxLength } = sizeBounds(checks);
      const entries = fc.uniqueArray(fc.tuple(child(def.keyType, `${path}<key>`), child(def.valueType, `${path}<value>`)), {
        minLength,
        maxLength: shallow ? minLength : maxLength,
        selector: ([key]) => key,
      });
      return entries.map((pairs) => new Map(pairs));
    }
    case "record":
      return recordArbitrary(def, path, ctx, shallow);
    case "object":
      return objectArbitrary(def, path, ctx);
    case "union": {
      const schemas = def.options as ZodLike[];
      // Deep in a recursive schema, a branch that does not recurse ends the value.
      if (shallow) return child(schemas.find((o) => !recurses(o)) ?? schemas[0], `${path}|`);
      return fc.oneof(...schemas.map((s, k) => child(s, `${path}|${k}`)));
    }
    case "intersection": {
      const left = def.left as ZodLike;
      const right = def.right as ZodLike;
      // Two objects: one object with the keys of both (a key in both takes values the right side accepts too).
      if (left._zod.def.type === "object" && right._zod.def.type === "object") {
        const shape = { ...(right._zod.def.shape as Record<string, ZodLike>), ...(left._zod.def.shape as Record<string, ZodLike>) };
        return refined(objectArbitrary({ ...left._zod.def, shape }, path, ctx), (value) => schema.safeParse(value).success);
      }
      return refined(child(left, `${path}&`), (value) => schema.safeParse(value).success);
    }
    case "optional":
      return shallow ? fc.constant(undefined) : fc.option(child(def.innerType, path), { nil: undefined, freq: 4 });
    case "nullable":
      return shallow ? fc.constant(null) : fc.option(child(def.innerType, path), { nil: null, freq: 4 });
    case "default":
    case "prefault":
    case "catch":
    case "readonly":
    case "nonoptional":
      return child(def.innerType, path);
    case "pipe":
      return child(def.in, path);
    case "lazy": {
      let byDepth = ctx.lazy.get(schema);
      if (!byDepth) ctx.lazy.set(schema, (byDepth = []));
      const deeper = { ...ctx, depth: ctx.depth + 1 };
      return (byDepth[deeper.depth] ??= fc.constant(null).chain(() => child((def.getter as () => unknown)(), path, deeper)));
    }
    case "template_literal": {
      const pattern = (schema._zod as { pattern?: unknown }).pattern;
      return pattern instanceof RegExp ? matching(pattern, path) : refined(fc.string(), (value) => schema.safeParse(value).success);
    }
    default:
      throw new UnsupportedSchemaError(path, def.type, unsupportedMessage(def.type));
  }
}

function unsupportedMessage(kind: string): string {
  switch (kind) {
    case "transform":
      return "a transform has no input schema to generate from. Fix: write it as a pipe, `z.string().transform(...)` (which has one), or leave it out of stateSchema.";
    case "custom":
      return "`z.custom` and `z.instanceof` give no shape to generate values from. Fix: describe the value with zod's structural schemas (object, map, array...).";
    case "never":
      return "`z.never()` has no values. Fix: remove the field from stateSchema.";
    default:
      return `relup verify cannot generate values of a \`${kind}\` schema. Fix: describe the state with plain data schemas (object, array, map, set, record, string, number, boolean, literal, enum, union, date, bigint, optional, nullable).`;
  }
}

/** Bounds of a string or array (`min_length`...) or of a Set or Map (`min_size`...). */
function bounds(checks: CheckDef[], unit: "length" | "size"): { minLength: number; maxLength: number } {
  let minLength = 0;
  let maxLength: number | undefined;
  for (const c of checks) {
    if (c.check === `min_${unit}`) minLength = Math.max(minLength, c.minimum as number);
    if (c.check === `max_${unit}`) maxLength = Math.min(maxLength ?? Infinity, c.maximum as number);
    if (c.check === `${unit}_equals`) minLength = maxLength = c[unit] as number;
  }
  return { minLength, maxLength: maxLength ?? minLength + MAX_ITEMS };
}

const lengthBounds = (checks: CheckDef[]) => bounds(checks, "length");
const sizeBounds = (checks: CheckDef[]) => bounds(checks, "size");

function stringArbitrary(def: ZodDef, checks: CheckDef[], path: string): fc.Arbitrary<unknown> {
  const { minLength, maxLength } = lengthBounds(checks);
  // A format is the schema's own (`z.email()`) or one of its checks (`z.string().email()`).
  const formatCheck = checks.find((c) => c.check === "string_format" && c.format !== "regex");
  const format = typeof formatCheck?.format === "string" ? formatCheck.format : undefined;
  switch (format) {
    case "uuid":
    case "guid":
      return fc.uuid();
    case "url":
      return fc.webUrl();
    case "datetime":
      return fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(Date.UTC(2100, 0, 1)) }).map((d) => d.toISOString());
    case "ipv4":
      return fc.ipV4();
    case "ipv6":
      return fc.ipV6();
    case undefined:
    default:
      // no format, or one without an arbitrary of its own: a pattern, or plain strings
      break;
  }
  const pattern = formatCheck?.pattern ?? checks.find((c) => c.check === "string_format" && c.format === "regex")?.pattern;
  if (pattern instanceof RegExp) return matching(pattern, path);
  const strings = fc.string({ minLength, maxLength, unit: "grapheme-ascii" });
  // The empty string breaks code that tests a key or a name for truth; make it common.
  return minLength === 0 ? fc.oneof({ arbitrary: fc.constant(""), weight: 1 }, { arbitrary: strings, weight: 4 }) : strings;
}

/**
 * Strings that match `pattern`. fast-check's stringMatching takes no flags; without `i` (or `m`, `s`,
 * `g`, `y`, `u`) the pattern matches a subset of what it matched with them, so values still pass.
 */
function matching(pattern: RegExp, path: string): fc.Arbitrary<string> {
  try {
    return fc.stringMatching(new RegExp(pattern.source));
  } catch (error) {
    throw new UnsupportedSchemaError(path, "string", `cannot generate strings matching ${pattern} (${(error as Error).message}). Fix: use a simpler pattern, or a z.enum of the values.`);
  }
}

/** Whether a schema refers to a lazy (recursive) schema anywhere inside it. */
function recurses(schema: ZodLike, seen = new Set<unknown>()): boolean {
  if (seen.has(schema)) return false;
  seen.add(schema);
  const def = schema._zod.def;
  if (def.type === "lazy") return true;
  const inner = ["innerType", "element", "valueType", "keyType", "left", "right", "in", "out", "rest"].map((k) => def[k]);
  const many = [...((def.options as unknown[]) ?? []), ...((def.items as unknown[]) ?? []), ...Object.values((def.shape as Record<string, unknown>) ?? {})];
  return [...inner, ...many].some((s) => isZodSchema(s) && recurses(s, seen));
}

function numberArbitrary(checks: CheckDef[], path: string): fc.Arbitrary<number> {
  let min = -Number.MAX_VALUE;
  let max = Number.MAX_VALUE;
  let minExcluded = false;
  let maxExcluded = false;
  let integer = false;
  for (const c of checks) {
    if (c.check === "greater_than" && (c.value as number) >= min) {
      min = c.value as number;
      minExcluded = c.inclusive !== true;
    }
    if (c.check === "less_than" && (c.value as number) <= max) {
      max = c.value as number;
      maxExcluded = c.inclusive !== true;
    }
    if (c.check === "number_format") {
      if (c.format === "safeint" || c.format === "int32" || c.format === "uint32") integer = true;
      if (c.format === "int32") [min, max] = [Math.max(min, -(2 ** 31)), Math.min(max, 2 ** 31 - 1)];
      if (c.format === "uint32") [min, max] = [Math.max(min, 0), Math.min(max, 2 ** 32 - 1)];
    }
  }
  if (integer) {
    const lo = Math.max(Number.MIN_SAFE_INTEGER, minExcluded ? Math.floor(min) + 1 : Math.ceil(min));
    const hi = Math.min(Number.MAX_SAFE_INTEGER, maxExcluded ? Math.ceil(max) - 1 : Math.floor(max));
    if (lo > hi) throw new UnsupportedSchemaError(path, "number", `no integer lies within its bounds (${lo} to ${hi}). Fix: widen the bounds.`);
    return fc.integer({ min: lo, max: hi });
  }
  if (min > max || (min === max && (minExcluded || maxExcluded))) throw new UnsupportedSchemaError(path, "number", `no number lies within its bounds. Fix: widen the bounds.`);
  return fc.double({ min, max, minExcluded, maxExcluded, noNaN: true, noDefaultInfinity: true });
}

function bigintBounds(checks: CheckDef[]): { min?: bigint; max?: bigint } {
  const bounds: { min?: bigint; max?: bigint } = {};
  for (const c of checks) {
    if (c.check === "greater_than") bounds.min = (c.value as bigint) + (c.inclusive ? 0n : 1n);
    if (c.check === "less_than") bounds.max = (c.value as bigint) - (c.inclusive ? 0n : 1n);
  }
  return bounds;
}

function recordArbitrary(def: ZodDef, path: string, ctx: Context, shallow: boolean): fc.Arbitrary<unknown> {
  const keyDef = (def.keyType as ZodLike)._zod.def;
  const value = build(def.valueType as ZodLike, `${path}[<key>]`, ctx);
  // A record keyed by an enum or literals has every key (zod requires them all).
  const keys = keyDef.type === "enum" ? Object.values(keyDef.entries as Record<string, string>) : keyDef.type === "literal" ? (keyDef.values as string[]) : undefined;
  if (keys) return fc.record(Object.fromEntries(keys.map((k) => [k, value])));
  const key = build(def.keyType as ZodLike, `${path}<key>`, ctx) as fc.Arbitrary<string>;
  return fc.dictionary(key, value, { maxKeys: shallow ? 0 : MAX_ITEMS, noNullPrototype: true });
}

function objectArbitrary(def: ZodDef, path: string, ctx: Context): fc.Arbitrary<unknown> {
  const shape = def.shape as Record<string, ZodLike>;
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  const optional: string[] = [];
  for (const [key, schema] of Object.entries(shape)) {
    const kind = schema._zod.def.type;
    // An optional field may be absent as well as undefined; fast-check's requiredKeys leaves it out.
    if (kind === "optional") {
      optional.push(key);
      fields[key] = build(schema._zod.def.innerType as ZodLike, `${path}.${key}`, ctx);
    } else {
      fields[key] = build(schema, `${path}.${key}`, ctx);
    }
  }
  const required = Object.keys(fields).filter((k) => !optional.includes(k));
  if (ctx.depth >= MAX_DEPTH) return fc.record(Object.fromEntries(required.map((k) => [k, fields[k]!])));
  return fc.record(fields, { requiredKeys: required });
}
