/**
 * Make a compiled module hold the namespace object of every release module it imports, not a copy.
 *
 * For `import * as m` and default imports esbuild's CommonJS output wraps the required module in its
 * interop helper: `var m = __toESM(require("relup:app/math"))`. `__toESM` builds a new object with one
 * getter per property the module has *at that moment*. For a release module that copy is wrong twice:
 * - late binding: an export that a later version adds is missing from the copy, and one it removes
 *   stays `in` it, so `m[name]`, `name in m` and `Object.keys(m)` in an importer that was not reloaded
 *   see the exports of the version that was current when the importer loaded;
 * - in Node mode (an `.mts` importer, `__toESM(..., 1)`) it sets `default` to the whole namespace, which
 *   is Node's rule for a CommonJS module; a release module is an ES module compiled by relup, whose
 *   default import is its `default` export (what Node gives an ES module importing an ES module).
 * The runtime's module table returns one namespace object per module (marked `__esModule`) whose
 * properties it replaces in place on each load, so the importer should hold that object itself:
 * `var m = require("relup:app/math")`. This rewrite removes the helper call around `require` of a
 * `relup:` specifier and nothing else: npm packages, `node:` built-ins and `relup/runtime` keep
 * esbuild's interop exactly. Named imports already compile to a bare `require`.
 *
 * It works on the syntax tree (acorn) of esbuild's output, and moves the generated columns of the
 * source map on the lines it shortens, so stack traces and debuggers still point at the source.
 */
import * as acorn from "acorn";
import { MODULE_SPECIFIER_PREFIX } from "./names.ts";

/** The name esbuild gives its ESM interop helper in CommonJS output (reserved: user code never gets it). */
const INTEROP_HELPER = "__toESM";

interface Cut {
  start: number;
  end: number;
}

export function readNamespacesDirectly(code: string, map: string): { code: string; map: string } {
  if (!code.includes(INTEROP_HELPER)) return { code, map };
  const program = acorn.parse(code, { ecmaVersion: "latest", sourceType: "script", allowHashBang: true, allowReturnOutsideFunction: true });
  const cuts: Cut[] = [];
  for (const statement of program.body) {
    if (statement.type !== "VariableDeclaration") continue;
    for (const declarator of statement.declarations) {
      const init = declarator.init;
      if (init?.type !== "CallExpression" || init.callee.type !== "Identifier" || init.callee.name !== INTEROP_HELPER) continue;
      const required = init.arguments[0];
      if (!required || !isReleaseRequire(required)) continue;
      // `__toESM(` before the require call, `)` or `, 1)` after it.
      cuts.push({ start: init.start, end: required.start }, { start: required.end, end: init.end });
    }
  }
  if (cuts.length === 0) return { code, map };
  return { code: cutCode(code, cuts), map: shiftMap(code, map, cuts) };
}

function isReleaseRequire(node: acorn.Node): boolean {
  if (node.type !== "CallExpression") return false;
  const call = node as acorn.CallExpression;
  const arg = call.arguments[0];
  return (
    call.callee.type === "Identifier" &&
    call.callee.name === "require" &&
    call.arguments.length === 1 &&
    arg?.type === "Literal" &&
    typeof arg.value === "string" &&
    arg.value.startsWith(MODULE_SPECIFIER_PREFIX)
  );
}

function cutCode(code: string, cuts: readonly Cut[]): string {
  let out = "";
  let at = 0;
  for (const cut of cuts) {
    out += code.slice(at, cut.start);
    at = cut.end;
  }
  return out + code.slice(at);
}

/** The source map with each segment's generated column moved left by what was cut before it on its line. */
function shiftMap(code: string, mapText: string, cuts: readonly Cut[]): string {
  const lineStarts = [0];
  for (let i = code.indexOf("\n"); i !== -1; i = code.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  // line → its cuts as columns; a cut never spans lines (esbuild prints `__toESM(require(...))` on one line).
  const byLine = new Map<number, { from: number; to: number }[]>();
  for (const cut of cuts) {
    const line = lineOf(cut.start);
    if (lineOf(cut.end) !== line) throw new Error(`readNamespacesDirectly: a cut spans lines at offset ${cut.start}`);
    const list = byLine.get(line) ?? [];
    list.push({ from: cut.start - lineStarts[line]!, to: cut.end - lineStarts[line]! });
    byLine.set(line, list);
  }
  const mappings = (JSON.parse(mapText) as { mappings: string }).mappings;
  const lines = mappings.split(";");
  for (const [line, lineCuts] of byLine) {
    const text = lines[line];
    if (!text) continue;
    let column = 0;
    let shiftedBefore = 0;
    const segments = text.split(",").map((segment) => {
      const fields = decodeVlq(segment);
      column += fields[0]!;
      // A column inside a cut lands where the cut began; after it, moves left by the cut's length.
      const removed = lineCuts.reduce((sum, c) => sum + (column >= c.to ? c.to - c.from : column > c.from ? column - c.from : 0), 0);
      const shifted = column - removed;
      fields[0] = shifted - shiftedBefore;
      shiftedBefore = shifted;
      return encodeVlq(fields);
    });
    lines[line] = segments.join(",");
  }
  // Only the mappings string changes; the rest of the file stays as esbuild wrote it.
  return mapText.replace(JSON.stringify(mappings), () => JSON.stringify(lines.join(";")));
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function decodeVlq(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    if (digit < 0) throw new Error(`readNamespacesDirectly: bad source map character ${JSON.stringify(char)}`);
    value += (digit & 31) * 2 ** shift;
    shift += 5;
    if ((digit & 32) === 0) {
      values.push(value % 2 === 1 ? -(value - 1) / 2 : value / 2);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encodeVlq(values: readonly number[]): string {
  let out = "";
  for (const v of values) {
    let rest = v < 0 ? -v * 2 + 1 : v * 2;
    do {
      const digit = rest % 32;
      rest = Math.floor(rest / 32);
      out += BASE64[rest > 0 ? digit | 32 : digit];
    } while (rest > 0);
  }
  return out;
}
