/**
 * Values taken from live states, for the generator (`relup verify --live`): a migration that fails on
 * one particular key (a session id, a tenant name) is almost never found by random strings, but the
 * node holds the keys that matter. The generated runs draw strings, numbers, bigints and dates from
 * these values half of the time, and from the usual random ones otherwise; fast-check still shrinks
 * what fails (a value from the states shrinks toward the random side's simplest value).
 *
 * Each value is filed under the place of the schema it was found at, named as the generator names it
 * (`stateSchema.sessions<key>`), by walking each state along the schema; every such value also goes
 * into a pool, for places of the schema where no state had a value (a field the new version adds).
 */
import { isZodSchema, type ZodLike } from "./zod-arbitrary.ts";

export interface Seeds {
  /** values met at each place of the schema, by `seedSlot` of the generator's path */
  at: Map<string, unknown[]>;
  /** every string, number, bigint and date met anywhere in the states */
  pool: unknown[];
}

/** At most this many distinct values are kept per place (and in the pool): the first ones met. */
export const MAX_SEEDS = 1000;
/** Recursive schemas are followed this deep into a state. */
const MAX_DEPTH = 64;

export function collectSeeds(schema: ZodLike, states: readonly unknown[]): Seeds {
  const at = new Map<string, Map<unknown, unknown>>();
  const pool = new Map<unknown, unknown>();
  const add = (into: Map<unknown, unknown>, value: unknown) => {
    if (into.size < MAX_SEEDS) into.set(value instanceof Date ? `date:${value.getTime()}` : value, value);
  };
  const note = (path: string, value: unknown) => {
    let values = at.get(path);
    if (!values) at.set(path, (values = new Map()));
    add(values, value);
    add(pool, value);
  };

  const walk = (value: unknown, s: unknown, path: string, depth: number): void => {
    if (!isZodSchema(s) || depth > MAX_DEPTH || value === undefined || value === null) return;
    const def = s._zod.def as { type: string; [key: string]: unknown };
    const next = (v: unknown, schema: unknown, p = path) => walk(v, schema, p, depth + 1);
    switch (def.type) {
      case "string":
      case "template_literal":
        if (typeof value === "string") note(path, value);
        return;
      case "number":
        if (typeof value === "number") note(path, value);
        return;
      case "bigint":
        if (typeof value === "bigint") note(path, value);
        return;
      case "date":
        if (value instanceof Date && !Number.isNaN(value.getTime())) note(path, value);
        return;
      case "object":
        if (typeof value !== "object") return;
        for (const [key, field] of Object.entries(def.shape as Record<string, unknown>)) next((value as Record<string, unknown>)[key], field, `${path}.${key}`);
        return;
      case "array":
        if (Array.isArray(value)) for (const item of value) next(item, def.element, `${path}[]`);
        return;
      case "tuple":
        if (!Array.isArray(value)) return;
        (def.items as unknown[]).forEach((item, k) => next(value[k], item, `${path}[${k}]`));
        if (def.rest) for (const item of value.slice((def.items as unknown[]).length)) next(item, def.rest, `${path}[...]`);
        return;
      case "set":
        if (value instanceof Set) for (const item of value) next(item, def.valueType, `${path}<value>`);
        return;
      case "map":
        if (!(value instanceof Map)) return;
        for (const [key, item] of value) {
          next(key, def.keyType, `${path}<key>`);
          next(item, def.valueType, `${path}<value>`);
        }
        return;
      case "record":
        if (typeof value !== "object") return;
        for (const [key, item] of Object.entries(value)) {
          next(key, def.keyType, `${path}<key>`);
          next(item, def.valueType, `${path}[<key>]`);
        }
        return;
      case "union":
        // Every branch that takes the value: the generator may build it from any of them.
        for (const option of def.options as ZodLike[]) if (option.safeParse(value).success) next(value, option);
        return;
      case "intersection":
        next(value, def.left);
        next(value, def.right);
        return;
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "catch":
      case "readonly":
      case "nonoptional":
        return next(value, def.innerType);
      case "pipe":
        return next(value, def.in);
      case "lazy":
        return next(value, (def.getter as () => unknown)());
      default:
        return;
    }
  };
  for (const state of states) walk(state, schema, "stateSchema", 0);
  return { at: new Map([...at].map(([path, values]) => [path, [...values.values()]])), pool: [...pool.values()] };
}
