/**
 * The structure of a zod 4 `stateSchema`, as the canonical tree recorded in app.json (`stateShape`, see
 * src/release/state-shape.ts for what it keeps and how it is normalised). Read from `_zod.def`, as the
 * verify generator reads it, so the zod of `relup/runtime` and a project's own zod 4 give the same tree.
 * `z.toJSONSchema` is not used: it cannot represent Maps, Sets, Dates or bigints, which states hold.
 */
import { LEAF_KINDS, type StateShape } from "../release/state-shape.ts";
import { isZodSchema, type ZodLike } from "./zod-arbitrary.ts";

interface Def {
  type: string;
  [key: string]: unknown;
}

const LEAVES: ReadonlySet<string> = new Set(LEAF_KINDS);
/** Wrappers that change how a value is parsed, not what a process holds. */
const TRANSPARENT: ReadonlySet<string> = new Set(["default", "prefault", "catch", "readonly", "nonoptional", "success"]);

export function describeStateSchema(schema: ZodLike): StateShape {
  const lazies = new Map<unknown, { id: number; open: boolean }>();
  let nextId = 0;

  const walk = (s: unknown): StateShape => {
    if (!isZodSchema(s)) return { type: "opaque", kind: "not a schema" };
    const def = s._zod.def as Def;
    if (LEAVES.has(def.type)) return { type: def.type } as StateShape;
    if (TRANSPARENT.has(def.type)) return walk(def.innerType);
    switch (def.type) {
      case "null":
        return literal(["null"]);
      case "undefined":
      case "void":
        return literal(["undefined"]);
      case "literal":
        return literal((def.values as unknown[]).map(jsText));
      case "enum":
        return literal(Object.values(def.entries as Record<string, unknown>).map(jsText));
      case "template_literal": {
        const pattern = (s._zod as { pattern?: unknown }).pattern;
        return { type: "template_literal", pattern: pattern instanceof RegExp ? pattern.source : "" };
      }
      case "object": {
        const shape = def.shape as Record<string, unknown>;
        const fields = Object.fromEntries(Object.keys(shape).sort().map((k) => [k, walk(shape[k])]));
        const rest = def.catchall === undefined ? undefined : walk(def.catchall);
        return rest ? { type: "object", fields, rest } : { type: "object", fields };
      }
      case "array":
        return { type: "array", of: walk(def.element) };
      case "tuple": {
        const items = (def.items as unknown[]).map(walk);
        return def.rest ? { type: "tuple", items, rest: walk(def.rest) } : { type: "tuple", items };
      }
      case "set":
        return { type: "set", of: walk(def.valueType) };
      case "map":
        return { type: "map", key: walk(def.keyType), value: walk(def.valueType) };
      case "record":
        return { type: "record", key: walk(def.keyType), value: walk(def.valueType) };
      case "union":
        return union((def.options as unknown[]).map(walk));
      case "nullable":
        return union([walk(def.innerType), literal(["null"])]);
      case "optional":
        return { type: "optional", of: walk(def.innerType) };
      case "intersection":
        return { type: "intersection", left: walk(def.left), right: walk(def.right) };
      case "pipe":
        return walk(def.in);
      case "lazy": {
        const known = lazies.get(s);
        if (known?.open) return { type: "recursion", id: known.id };
        const entry = { id: known?.id ?? nextId++, open: true };
        lazies.set(s, entry);
        const of = walk((def.getter as () => unknown)());
        entry.open = false;
        return { type: "lazy", id: entry.id, of };
      }
      default:
        return { type: "opaque", kind: def.type };
    }
  };
  return walk(schema);
}

function literal(values: string[]): StateShape {
  return { type: "literal", values: [...new Set(values)].sort() };
}

/** Options flattened, literals merged, sorted by their JSON and deduplicated; one option is itself. */
function union(options: StateShape[]): StateShape {
  const flat = options.flatMap((o) => (o.type === "union" ? o.options : [o]));
  const literals = flat.flatMap((o) => (o.type === "literal" ? o.values : []));
  const others = flat.filter((o) => o.type !== "literal");
  const all = [...(literals.length ? [literal(literals)] : []), ...others];
  const unique = [...new Map(all.map((o) => [JSON.stringify(o), o])).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
  return unique.length === 1 ? unique[0]! : { type: "union", options: unique };
}

/** A literal value as JavaScript text: `"open"`, `1`, `1n`, `true`, `null`, `undefined`. */
function jsText(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (value === undefined) return "undefined";
  return JSON.stringify(value);
}
