/** Comparing states as data, as `relup verify` does for round trips, mutations and determinism. */
import { describe, expect, it } from "vitest";
import { ABSENT, firstDifference } from "../../src/verify/state-diff.ts";

describe("firstDifference", () => {
  it("compares plain data by value: Maps and Sets in any order, object entries by value, Dates by time, NaN equal", () => {
    const a = { m: new Map([[{ k: 1 }, "x"], [{ k: 2 }, "y"]]), s: new Set([{ id: "a" }, 1]), d: new Date(5), n: Number.NaN };
    const b = structuredClone({ m: new Map([[{ k: 2 }, "y"], [{ k: 1 }, "x"]]), s: new Set([1, { id: "a" }]), d: new Date(5), n: Number.NaN });
    expect(firstDifference(a, b)).toBeUndefined();
  });

  it("treats a key set to undefined as absent, and an object without prototype as a plain one", () => {
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(firstDifference({ a: 1, b: undefined }, bare)).toBeUndefined();
    expect(firstDifference(bare, structuredClone(bare))).toBeUndefined();
  });

  it("names the first place that differs, with ABSENT for a missing entry", () => {
    expect(firstDifference({ tags: ["x"] }, { tags: [] })).toEqual({ path: ".tags[0]", expected: "x", actual: ABSENT });
    expect(firstDifference(new Map([["", 1]]), new Map())).toEqual({ path: '<"">', expected: 1, actual: ABSENT });
    expect(firstDifference(new Set([{ id: 1 }]), new Set([{ id: 2 }]))).toMatchObject({ path: "{{ id: 1 }}", actual: ABSENT });
  });

  it("with allowExtraKeys, keys only the actual value has are no difference (what a stripping schema drops)", () => {
    expect(firstDifference({ a: 1 }, { a: 1, extra: true }, "", { allowExtraKeys: true })).toBeUndefined();
    expect(firstDifference({ a: 1, at: 0 }, { a: 1 }, "", { allowExtraKeys: true })).toEqual({ path: ".at", expected: 0, actual: ABSENT });
  });
});
