import { describe, expect, it } from "vitest";
import { extractMetadata } from "./extract-metadata.ts";

const ok = (source: string) => {
  const result = extractMetadata(source);
  if (!result.ok) throw new Error(`${result.field}: ${result.detail}`);
  return result.value;
};

describe("extractMetadata", () => {
  it("a plain module: no behaviour, no vsn, its exports sorted", () => {
    expect(ok("export function sub(a, b) { return a - b }\nexport function add(a, b) { return a + b }")).toEqual({
      behaviour: null,
      vsn: null,
      exports: ["add", "sub"],
      mutableState: [],
    });
  });

  it("a server declares behaviour and a numeric vsn, and exports codeChange", () => {
    const meta = ok(`export const behaviour = "server";\nexport const vsn = 2;\nexport function init() {}\nexport function codeChange(old, s) { return s }`);
    expect(meta).toMatchObject({ behaviour: "server", vsn: 2, exports: ["behaviour", "codeChange", "init", "vsn"] });
  });

  it("a string vsn, also from a template literal without substitutions", () => {
    expect(ok(`export const vsn = "2.1";`).vsn).toBe("2.1");
    expect(ok("export const vsn = `3`;").vsn).toBe("3");
  });

  it("constants exported by name, as `export { behaviour }` after the declaration", () => {
    expect(ok(`const behaviour = "supervisor";\nfunction init() {}\nexport { behaviour, init };`)).toMatchObject({ behaviour: "supervisor", exports: ["behaviour", "init"] });
  });

  it("renamed, destructured, default and namespace re-exports", () => {
    const meta = ok(`const a = 1; export { a as b };\nexport const { c, d: [e] } = obj;\nexport default 1;\nexport * as ns from "./x";`);
    expect(meta.exports).toEqual(["b", "c", "default", "e", "ns"]);
  });

  it("a behaviour computed at run time is refused: metadata is read without running the module", () => {
    expect(extractMetadata(`export const behaviour = pick();`)).toEqual({ ok: false, field: "behaviour", detail: expect.stringContaining("literal") });
  });

  it("an unknown behaviour is refused with the allowed ones", () => {
    expect(extractMetadata(`export const behaviour = "gen_server";`)).toEqual({ ok: false, field: "behaviour", detail: expect.stringContaining('"server", "supervisor" or "application"') });
  });

  it("a vsn that is neither a string nor a number is refused", () => {
    expect(extractMetadata(`export const vsn = { major: 1 };`)).toMatchObject({ ok: false, field: "vsn" });
    expect(extractMetadata(`export const vsn = "";`)).toMatchObject({ ok: false, field: "vsn" });
  });

  it("module-level mutable state: let, var, and const collections; not constants or functions", () => {
    const meta = ok(`let hits = 0;\nvar legacy;\nconst cache = new Map();\nexport const seen = new Set();\nconst LIMIT = 10;\nconst table = { a: 1 };\nexport let exported = 1;\nfunction f() { let local = 1; }`);
    expect(meta.mutableState).toEqual(["cache", "exported", "hits", "legacy", "seen"]);
  });

  it("module-level state: any object made with new at the top level (an npm package's cache, a pool), not stateless built-ins", () => {
    const meta = ok(`import { LRUCache } from "lru-cache";
import * as pg from "pg";
const shared = new LRUCache({ max: 10 });
export const pool = new pg.Pool();
const encoder = new TextEncoder();
const money = new Intl.NumberFormat("en");
const pattern = new RegExp("a+");`);
    expect(meta.mutableState).toEqual(["pool", "shared"]);
  });

  it("source that does not parse is refused", () => {
    expect(extractMetadata("export function (")).toMatchObject({ ok: false, field: "(source)" });
  });
});
