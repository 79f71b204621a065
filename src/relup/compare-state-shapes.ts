/**
 * Where two recorded state shapes (app.json `stateShape`) first differ. Pure. Paths read as a state's
 * do: `.field` for an object's field, `[]` for an array's items, `[2]` for a tuple's, `<key>` and
 * `<value>` for a Map's or record's keys and values, `<value>` for a Set's members.
 */
import { assertNever } from "../errors.ts";
import { shapeText, type StateShape } from "../release/state-shape.ts";

export interface ShapeDifference {
  /** where, from the state's root; "(the whole state)" at the root */
  path: string;
  /** the old and the new shape there, as text (`absent` where one has nothing) */
  from: string;
  to: string;
}

const ABSENT = "absent";

export function firstShapeDifference(a: StateShape, b: StateShape, path = ""): ShapeDifference | undefined {
  const differ = (): ShapeDifference => ({ path: path || "(the whole state)", from: shapeText(a), to: shapeText(b) });
  if (a.type !== b.type) return differ();
  switch (a.type) {
    case "object": {
      const other = b as typeof a;
      const keys = [...new Set([...Object.keys(a.fields), ...Object.keys(other.fields)])].sort();
      for (const key of keys) {
        const [x, y] = [a.fields[key], other.fields[key]];
        if (!x || !y) return { path: `${path}.${key}`, from: x ? shapeText(x) : ABSENT, to: y ? shapeText(y) : ABSENT };
        const d = firstShapeDifference(x, y, `${path}.${key}`);
        if (d) return d;
      }
      return pair(a.rest, other.rest, `${path}[other keys]`);
    }
    case "array":
    case "set":
    case "optional":
      return firstShapeDifference(a.of, (b as typeof a).of, a.type === "array" ? `${path}[]` : a.type === "set" ? `${path}<value>` : path);
    case "tuple": {
      const other = b as typeof a;
      for (let k = 0; k < Math.max(a.items.length, other.items.length); k++) {
        const d = pair(a.items[k], other.items[k], `${path}[${k}]`);
        if (d) return d;
      }
      return pair(a.rest, other.rest, `${path}[...]`);
    }
    case "map":
    case "record": {
      const other = b as typeof a;
      return firstShapeDifference(a.key, other.key, `${path}<key>`) ?? firstShapeDifference(a.value, other.value, `${path}<value>`);
    }
    case "intersection": {
      const other = b as typeof a;
      return firstShapeDifference(a.left, other.left, path) ?? firstShapeDifference(a.right, other.right, path);
    }
    case "lazy":
      return a.id === (b as typeof a).id ? firstShapeDifference(a.of, (b as typeof a).of, path) : differ();
    case "any":
    case "bigint":
    case "boolean":
    case "date":
    case "literal":
    case "nan":
    case "never":
    case "number":
    case "opaque":
    case "recursion":
    case "string":
    case "symbol":
    case "template_literal":
    case "union":
    case "unknown":
      // Leaves, literals, unions (options are sorted, so equal unions are equal JSON), recursion marks.
      return JSON.stringify(a) === JSON.stringify(b) ? undefined : differ();
    default:
      return assertNever(a);
  }
}

function pair(a: StateShape | undefined, b: StateShape | undefined, path: string): ShapeDifference | undefined {
  if (!a && !b) return undefined;
  if (!a || !b) return { path, from: a ? shapeText(a) : ABSENT, to: b ? shapeText(b) : ABSENT };
  return firstShapeDifference(a, b, path);
}
