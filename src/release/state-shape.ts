/**
 * `stateShape` in app.json: the structure of a server module's `stateSchema`, recorded by the build so
 * that plan generation can compare two versions without running their code.
 *
 * Kinds and structure only: which fields an object has, what a collection holds, which values a literal
 * or enum allows, what is optional. Checks and refinements (lengths, bounds, formats, `refine`) are left
 * out: they narrow values, not the shape, and `relup verify` checks them on generated states. The tree
 * is canonical, so that two schemas written differently for the same states record the same shape:
 *   - `z.enum`, `z.literal`, `z.null()` and `z.undefined()` are all `literal` (values as JS text, sorted);
 *   - a `nullable` is a union with `null`; nested unions are flattened, their literals merged, their
 *     options sorted and deduplicated;
 *   - wrappers that do not change what a process holds (`default`, `catch`, `readonly`, `prefault`) are
 *     left out; a `pipe` is its input;
 *   - a recursive (`z.lazy`) schema is `lazy` with an id (numbered in the order met), and `recursion`
 *     where it refers back to itself.
 * Kinds without structure to compare (`z.custom`, functions, transforms) are `opaque`, with zod's name.
 */
import { assertNever } from "../errors.ts";
import { z } from "zod";

export type StateShape =
  | { type: "string" | "number" | "bigint" | "boolean" | "date" | "symbol" | "nan" | "any" | "unknown" | "never" }
  | { type: "literal"; values: string[] }
  | { type: "template_literal"; pattern: string }
  | { type: "opaque"; kind: string }
  | { type: "object"; fields: Record<string, StateShape>; rest?: StateShape }
  | { type: "array"; of: StateShape }
  | { type: "tuple"; items: StateShape[]; rest?: StateShape }
  | { type: "set"; of: StateShape }
  | { type: "map"; key: StateShape; value: StateShape }
  | { type: "record"; key: StateShape; value: StateShape }
  | { type: "union"; options: StateShape[] }
  | { type: "intersection"; left: StateShape; right: StateShape }
  | { type: "optional"; of: StateShape }
  | { type: "lazy"; id: number; of: StateShape }
  | { type: "recursion"; id: number };

export const LEAF_KINDS = ["string", "number", "bigint", "boolean", "date", "symbol", "nan", "any", "unknown", "never"] as const;

export const StateShape: z.ZodType<StateShape> = z.lazy(() =>
  z.discriminatedUnion("type", [
    z.object({ type: z.enum(LEAF_KINDS) }).strict(),
    z.object({ type: z.literal("literal"), values: z.array(z.string()) }).strict(),
    z.object({ type: z.literal("template_literal"), pattern: z.string() }).strict(),
    z.object({ type: z.literal("opaque"), kind: z.string() }).strict(),
    z.object({ type: z.literal("object"), fields: z.record(z.string(), StateShape), rest: StateShape.optional() }).strict(),
    z.object({ type: z.literal("array"), of: StateShape }).strict(),
    z.object({ type: z.literal("tuple"), items: z.array(StateShape), rest: StateShape.optional() }).strict(),
    z.object({ type: z.literal("set"), of: StateShape }).strict(),
    z.object({ type: z.literal("map"), key: StateShape, value: StateShape }).strict(),
    z.object({ type: z.literal("record"), key: StateShape, value: StateShape }).strict(),
    z.object({ type: z.literal("union"), options: z.array(StateShape) }).strict(),
    z.object({ type: z.literal("intersection"), left: StateShape, right: StateShape }).strict(),
    z.object({ type: z.literal("optional"), of: StateShape }).strict(),
    z.object({ type: z.literal("lazy"), id: z.int().min(0), of: StateShape }).strict(),
    z.object({ type: z.literal("recursion"), id: z.int().min(0) }).strict(),
  ]),
);

/** A shape as TypeScript-like text, for messages: `{ counts: Map<string, { count: number }> }`. */
export function shapeText(shape: StateShape, maxLength = 120): string {
  const text = render(shape);
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

function render(s: StateShape): string {
  switch (s.type) {
    case "literal":
      return s.values.join(" | ");
    case "template_literal":
      return `string matching /${s.pattern}/`;
    case "opaque":
      return `(${s.kind})`;
    case "object": {
      const fields = Object.entries(s.fields).map(([k, v]) => (v.type === "optional" ? `${k}?: ${render(v.of)}` : `${k}: ${render(v)}`));
      if (s.rest) fields.push(`[key: string]: ${render(s.rest)}`);
      return fields.length ? `{ ${fields.join("; ")} }` : "{}";
    }
    case "array":
      return `Array<${render(s.of)}>`;
    case "tuple":
      return `[${[...s.items.map(render), ...(s.rest ? [`...${render(s.rest)}[]`] : [])].join(", ")}]`;
    case "set":
      return `Set<${render(s.of)}>`;
    case "map":
      return `Map<${render(s.key)}, ${render(s.value)}>`;
    case "record":
      return `Record<${render(s.key)}, ${render(s.value)}>`;
    case "union":
      return s.options.map(render).join(" | ");
    case "intersection":
      return `${render(s.left)} & ${render(s.right)}`;
    case "optional":
      return `${render(s.of)} | undefined`;
    case "lazy":
      return `#${s.id}=${render(s.of)}`;
    case "recursion":
      return `#${s.id}`;
    case "any":
    case "bigint":
    case "boolean":
    case "date":
    case "nan":
    case "never":
    case "number":
    case "string":
    case "symbol":
    case "unknown":
      return s.type;
    default:
      return assertNever(s);
  }
}
