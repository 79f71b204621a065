/**
 * The zod 4 → fast-check adapter: every value it generates is one the schema accepts (as parse returns
 * it), bounds and formats are honoured, recursion ends, and kinds with no values to generate are named
 * with their place in the schema.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { arbitraryOf, isZodSchema, REJECTED, UnsupportedSchemaError, type ZodLike } from "../../src/verify/zod-arbitrary.ts";

const asLike = (schema: z.ZodType) => schema as unknown as ZodLike;

function samples(schema: z.ZodType, n = 300): unknown[] {
  return fc.sample(arbitraryOf(asLike(schema)), { numRuns: n, seed: 7 });
}

interface Tree {
  label: string;
  children: Tree[];
}
const tree: z.ZodType<Tree> = z.lazy(() => z.object({ label: z.string(), children: z.array(tree) }));

const accepted: [string, z.ZodType][] = [
  ["strings with lengths", z.string().min(2).max(5)],
  ["exact length", z.string().length(3)],
  ["integers in a range", z.int().min(-3).max(3)],
  ["exclusive number bounds", z.number().gt(0).lt(1)],
  ["int32", z.int32()],
  ["bigint bounds", z.bigint().min(5n).max(9n)],
  ["booleans, null, undefined", z.union([z.boolean(), z.null(), z.undefined()])],
  ["literals and enums", z.object({ a: z.literal(["x", 2]), b: z.enum(["on", "off"]) })],
  ["dates", z.date()],
  ["arrays with bounds", z.array(z.int()).min(1).max(3)],
  ["tuples with rest", z.tuple([z.string(), z.number()], z.boolean())],
  ["sets with a size", z.set(z.string()).min(2).max(4)],
  ["maps", z.map(z.string(), z.object({ count: z.int().min(1), updatedAt: z.int().min(0) }))],
  ["records", z.record(z.string(), z.array(z.string()))],
  ["records keyed by an enum", z.record(z.enum(["a", "b"]), z.number())],
  ["strict objects with optional and nullable fields", z.strictObject({ name: z.string(), email: z.string().optional(), phone: z.string().nullable() })],
  ["discriminated unions", z.discriminatedUnion("kind", [z.object({ kind: z.literal("a"), n: z.int() }), z.object({ kind: z.literal("b"), s: z.string() })])],
  ["defaults", z.object({ theme: z.string().default("light") })],
  ["readonly", z.object({ xs: z.array(z.string()).readonly() })],
  ["formats", z.object({ id: z.uuid(), email: z.email(), at: z.iso.datetime() })],
  ["regex", z.string().regex(/^[a-z]{2}-\d{3}$/)],
  ["refinements", z.int().refine((n) => n % 2 === 0, "even")],
  ["intersections", z.intersection(z.object({ a: z.string() }), z.object({ a: z.string().min(1) }))],
  ["pipes", z.string().transform((s) => s.length)],
  ["recursive schemas", tree],
  ["unknown", z.unknown()],
];

describe("arbitraryOf", () => {
  it.each(accepted)("%s: every generated value is accepted by the schema", (_name, schema) => {
    const values = samples(schema).filter((v) => v !== REJECTED);
    expect(values.length).toBeGreaterThan(200);
    for (const value of values) expect(schema.safeParse(value).success).toBe(true);
  });

  it("hands out what parse returns: defaults filled in, unknown keys of a stripping object gone", () => {
    for (const value of samples(z.object({ theme: z.string().default("light"), n: z.int() }))) {
      expect(typeof (value as { theme: unknown }).theme).toBe("string");
    }
  });

  it("generates optional fields both present and absent, and keys of every kind of map", () => {
    const values = samples(z.object({ email: z.string().optional() })) as { email?: string }[];
    expect(values.some((v) => !("email" in v))).toBe(true);
    expect(values.some((v) => typeof v.email === "string")).toBe(true);
    const maps = samples(z.map(z.string(), z.int())) as Map<string, number>[];
    expect(maps.some((m) => m.size === 0)).toBe(true);
    expect(maps.some((m) => m.has(""))).toBe(true);
  });

  it("stops recursion: a recursive schema's values are finite and nest a few levels at most", () => {
    const depth = (t: Tree): number => 1 + Math.max(0, ...t.children.map(depth));
    const depths = (samples(tree, 200) as Tree[]).map(depth);
    expect(Math.max(...depths)).toBeLessThanOrEqual(5);
    expect(Math.max(...depths)).toBeGreaterThan(1);
  });

  it("names the place of a kind it cannot generate, and says what to do", () => {
    const bad = z.object({ users: z.map(z.string(), z.object({ socket: z.custom<object>() })) });
    expect(() => arbitraryOf(asLike(bad))).toThrow(UnsupportedSchemaError);
    expect(() => arbitraryOf(asLike(bad))).toThrow(/^stateSchema\.users<value>\.socket: `z\.custom` .* Fix:/);
    expect(() => arbitraryOf(asLike(z.object({ f: z.function() })))).toThrow(/stateSchema\.f: .*`function`/);
    expect(() => arbitraryOf(asLike(z.object({ n: z.never() })))).toThrow(/stateSchema\.n: `z\.never\(\)` has no values/);
  });

  it("tells a zod 4 schema from anything else", () => {
    expect(isZodSchema(z.string())).toBe(true);
    expect(isZodSchema({ parse() {} })).toBe(false);
    expect(isZodSchema({ _def: { typeName: "ZodString" }, safeParse() {} })).toBe(false);
    expect(isZodSchema(undefined)).toBe(false);
  });
});

describe("arbitraryOf never loops", () => {
  const gen = (schema: z.ZodType, n = 200) => fc.sample(arbitraryOf(asLike(schema)), { numRuns: n, seed: 3 });
  it.each([
    ["z.string().email()", z.string().email()],
    ["z.string().uuid()", z.string().uuid()],
    ["z.string().datetime()", z.string().datetime()],
    ["z.string().startsWith()", z.string().startsWith("x-")],
    ["a regex with the i flag", z.string().regex(/^ab[0-9]{2}$/i)],
    ["a template literal", z.templateLiteral(["id-", z.int()])],
    ["an intersection of two objects", z.intersection(z.object({ a: z.string() }), z.object({ b: z.int() }))],
  ])("%s: values are generated and accepted", (_name, schema) => {
    const values = gen(schema).filter((v) => v !== REJECTED);
    expect(values.length).toBeGreaterThan(150);
    for (const v of values) expect(schema.safeParse(v).success).toBe(true);
  });

  it("a refinement that rejects almost everything gives REJECTED values, not an endless retry", () => {
    const values = gen(z.string().refine((s) => s === "needle-in-a-haystack"));
    expect(values.every((v) => v === REJECTED)).toBe(true);
  });

  it("a recursive union whose recursive branch comes first ends, and one that never ends is refused", () => {
    type T = number | { left: T; right: T };
    const tree: z.ZodType<T> = z.lazy(() => z.union([z.object({ left: tree, right: tree }), z.number()]));
    for (const v of gen(tree, 100)) expect(tree.safeParse(v).success).toBe(true);
    type L = { next: L };
    const endless: z.ZodType<L> = z.lazy(() => z.object({ next: endless }));
    expect(() => gen(endless, 5)).toThrow(/no way to end/);
  });
});

describe("arbitraryOf and bounds", () => {
  it("dates keep within the schema's bounds, and bounds with nothing between them are refused by path", () => {
    const future = z.date().min(new Date(Date.UTC(2200, 0, 1)));
    const values = fc.sample(arbitraryOf(asLike(z.object({ at: future }))), { numRuns: 100, seed: 5 }).filter((v) => v !== REJECTED);
    expect(values.length).toBe(100);
    expect(() => arbitraryOf(asLike(z.object({ n: z.int().gt(5).lt(6) })))).toThrow(/^stateSchema\.n: no integer lies within its bounds/);
  });
});
