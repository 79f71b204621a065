/** The module table: late binding through namespaces, the two-version rule, purge, remove. */
import v8 from "node:v8";
import { describe, expect, it } from "vitest";
import { ModuleError, ModuleTable } from "../../src/runtime/module-table.ts";

function table() {
  const t = new ModuleTable({ runtimeApi: () => ({}) });
  const load = (module: string, code: string, vsn: string | number = 1) => t.load(t.compile(module, code, `/virtual/${module}.js`, { vsn, sha256: String(vsn) }));
  return { t, load };
}

describe("ModuleTable", () => {
  it("late binding: a caller that is not reloaded reaches the new code on its next call through the namespace", () => {
    const { t, load } = table();
    load("calc/math", "exports.add = (a, b) => a + b;");
    load("calc/router", `const math = require("relup:calc/math"); exports.answer = () => math.add(2, 2);`);
    const router = t.namespace("calc/router") as { answer: () => number };
    expect(router.answer()).toBe(4);
    load("calc/math", "exports.add = (a, b) => a * 2 + b * 2;", 2);
    expect(router.answer()).toBe(8);
  });

  it("a function copied out of the namespace stays bound to its version (an Erlang local call)", () => {
    const { t, load } = table();
    load("calc/math", "exports.add = (a, b) => a + b;");
    const copied = t.namespace("calc/math").add as (a: number, b: number) => number;
    t.purge("calc/math", "brutal");
    load("calc/math", "exports.add = (a, b) => a * 10 + b;", 2);
    expect(copied(2, 2)).toBe(4);
    expect((t.namespace("calc/math").add as typeof copied)(2, 2)).toBe(22);
  });

  it("the namespace object is the same object for the life of the module; exports gone in the new version disappear", () => {
    const { t, load } = table();
    load("a/m", "exports.f = () => 1; exports.g = () => 2;");
    const ns = t.namespace("a/m");
    load("a/m", "exports.f = () => 10;", 2);
    expect(t.namespace("a/m")).toBe(ns);
    expect(Object.keys(ns)).toEqual(["f"]);
  });

  it("keeps at most two versions: loading while an old version exists is refused until it is purged", () => {
    const { t, load } = table();
    load("a/m", "exports.v = 1;", 1);
    load("a/m", "exports.v = 2;", 2);
    expect(t.current("a/m")?.vsn).toBe(2);
    expect(t.old("a/m")?.vsn).toBe(1);
    expect(() => load("a/m", "exports.v = 3;", 3)).toThrow(/old version is still loaded; purge it/);
    expect(t.namespace("a/m").v).toBe(2);
    expect(t.purge("a/m", "soft")).toBe(true);
    load("a/m", "exports.v = 3;", 3);
    expect(t.namespace("a/m").v).toBe(3);
  });

  it("a soft purge fails while a handler still runs old code; a brutal purge drops it anyway", () => {
    const { t, load } = table();
    load("a/m", "exports.v = 1;", 1);
    load("a/m", "exports.v = 2;", 2);
    t.old("a/m")!.active = 1;
    expect(() => t.purge("a/m", "soft")).toThrow(ModuleError);
    expect(t.old("a/m")).toBeDefined();
    expect(t.purge("a/m", "brutal")).toBe(true);
    expect(t.old("a/m")).toBeUndefined();
  });

  it("a module that does not compile is refused at compile time, before anything changes", () => {
    const { t, load } = table();
    load("a/m", "exports.v = 1;");
    expect(() => t.compile("a/m", "exports.v = ;", "/virtual/a/m.js", { vsn: 2, sha256: "2" })).toThrow(/a\/m: does not compile/);
    expect(t.namespace("a/m").v).toBe(1);
    expect(t.old("a/m")).toBeUndefined();
  });

  it("a module whose top level throws is not loaded", () => {
    const { t, load } = table();
    load("a/m", "exports.v = 1;");
    expect(() => load("a/m", "throw new Error('boom');", 2)).toThrow(/failed while loading: boom/);
    expect(t.current("a/m")?.vsn).toBe(1);
    expect(t.namespace("a/m").v).toBe(1);
  });

  it("remove makes the current version old and empties the namespace; purge then forgets the module", () => {
    const { t, load } = table();
    load("a/m", "exports.v = 1;");
    t.remove("a/m");
    expect(t.isLoaded("a/m")).toBe(false);
    expect(Object.keys(t.namespace("a/m"))).toEqual([]);
    t.purge("a/m", "brutal");
    expect(t.modules()).toEqual([]);
  });

  it("npm packages and node: built-ins resolve through Node; relup/runtime resolves to the runtime API of the requiring module", () => {
    const t = new ModuleTable({ runtimeApi: (module) => ({ module }) });
    t.load(t.compile("a/m", `exports.sep = require("node:path").sep; exports.api = require("relup/runtime").module;`, "/virtual/a/m.js", { vsn: 1, sha256: "1" }));
    expect(t.namespace("a/m")).toMatchObject({ sep: "/", api: "a/m" });
  });

  it("the namespace keeps fast properties whatever exports a version drops, adds or reorders (a dictionary-mode namespace makes every call slower)", () => {
    v8.setFlagsFromString("--allow-natives-syntax");
    const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean;
    const { t, load } = table();
    load("a/m", "exports.f = () => 1; exports.g = () => 2; exports.h = () => 3;");
    const ns = t.namespace("a/m");
    const versions = [
      "exports.f = () => 1; exports.h = () => 3;",
      "exports.f = () => 1; exports.g = () => 2; exports.h = () => 3; exports.i = () => 4;",
      "exports.h = () => 3; exports.f = () => 1;",
      "exports.f = () => 1; exports.g = () => 2; exports.h = () => 3;",
    ];
    versions.forEach((code, i) => {
      t.purge("a/m", "brutal");
      load("a/m", code, i + 2);
      expect(t.namespace("a/m")).toBe(ns);
      expect(hasFastProperties(ns), code).toBe(true);
    });
    expect(Object.keys(ns)).toEqual(["f", "g", "h"]);
    expect((ns.h as () => number)()).toBe(3);
  });
});
