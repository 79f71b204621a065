/**
 * The recorded structure of a stateSchema: canonical (two ways of writing the same states give the same
 * tree), small, stable across runs, and compared by generation with the first difference named.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { StateShape, shapeText } from "../../src/release/state-shape.ts";
import { firstShapeDifference } from "../../src/relup/compare-state-shapes.ts";
import { describeStateSchema } from "../../src/verify/describe-state-schema.ts";
import type { ZodLike } from "../../src/verify/zod-arbitrary.ts";

const shape = (schema: z.ZodType) => describeStateSchema(schema as unknown as ZodLike);

interface Tree {
  label: string;
  children: Tree[];
}
const tree: z.ZodType<Tree> = z.lazy(() => z.object({ label: z.string(), children: z.array(tree) }));

describe("describeStateSchema", () => {
  it("records kinds and structure, not checks: Maps, Sets, Dates and bigints included", () => {
    const s = shape(z.object({ counts: z.map(z.string().min(1), z.object({ n: z.int().min(1), at: z.date() })), ids: z.set(z.bigint()), tags: z.array(z.email()).max(3) }));
    expect(shapeText(s, Infinity)).toBe("{ counts: Map<string, { at: date; n: number }>; ids: Set<bigint>; tags: Array<string> }");
    expect(StateShape.safeParse(s).success).toBe(true);
  });

  it("is canonical: enums and unions of literals, nullable and `| null`, field order and wrappers that only change parsing", () => {
    expect(shape(z.enum(["b", "a"]))).toEqual(shape(z.union([z.literal("a"), z.literal("b")])));
    expect(shape(z.string().nullable())).toEqual(shape(z.union([z.null(), z.string()])));
    expect(shape(z.object({ a: z.string(), b: z.number() }))).toEqual(shape(z.object({ b: z.number().default(0), a: z.string().readonly() })));
    expect(shape(z.union([z.literal(1), z.union([z.literal(2), z.boolean()])]))).toEqual({ type: "union", options: [{ type: "boolean" }, { type: "literal", values: ["1", "2"] }] });
  });

  it("keeps what does change the states: optional fields, strict objects, tuples, records, literal values", () => {
    expect(shape(z.object({ a: z.string().optional() }))).toEqual({ type: "object", fields: { a: { type: "optional", of: { type: "string" } } } });
    expect(shape(z.strictObject({ a: z.string() }))).toEqual({ type: "object", fields: { a: { type: "string" } }, rest: { type: "never" } });
    expect(shapeText(shape(z.tuple([z.string(), z.number()], z.boolean())))).toBe("[string, number, ...boolean[]]");
    expect(shapeText(shape(z.record(z.string(), z.literal(7n))))).toBe("Record<string, 7n>");
  });

  it("describes a recursive schema once, with a mark where it refers back to itself", () => {
    expect(shape(tree)).toEqual({
      type: "lazy",
      id: 0,
      of: { type: "object", fields: { children: { type: "array", of: { type: "recursion", id: 0 } }, label: { type: "string" } } },
    });
  });

  it("records kinds it cannot look into as opaque", () => {
    expect(shape(z.object({ socket: z.custom(), at: z.string().transform((s) => s.length) }))).toEqual({
      type: "object",
      fields: { at: { type: "string" }, socket: { type: "opaque", kind: "custom" } },
    });
  });
});

describe("firstShapeDifference", () => {
  const counter = shape(z.object({ counts: z.map(z.string(), z.object({ count: z.int(), updatedAt: z.int() })) }));

  it("is undefined for the same shape", () => {
    expect(firstShapeDifference(counter, shape(z.object({ counts: z.map(z.string(), z.object({ updatedAt: z.number(), count: z.number() })) })))).toBeUndefined();
  });

  it("names the first place that differs, with the old and the new shape there", () => {
    const renamed = shape(z.object({ counts: z.map(z.string(), z.object({ count: z.int(), touchedAt: z.int() })) }));
    expect(firstShapeDifference(counter, renamed)).toEqual({ path: ".counts<value>.touchedAt", from: "absent", to: "number" });
    const retyped = shape(z.object({ counts: z.map(z.number(), z.object({ count: z.int(), updatedAt: z.int() })) }));
    expect(firstShapeDifference(counter, retyped)).toEqual({ path: ".counts<key>", from: "string", to: "number" });
    expect(firstShapeDifference(shape(z.array(z.string())), shape(z.set(z.string())))).toEqual({ path: "(the whole state)", from: "Array<string>", to: "Set<string>" });
    expect(firstShapeDifference(shape(z.object({ s: z.enum(["a", "b"]) })), shape(z.object({ s: z.enum(["a", "b", "c"]) })))).toEqual({ path: ".s", from: '"a" | "b"', to: '"a" | "b" | "c"' });
  });
});
