/**
 * Runtime figures, measured in a fresh Node process (`node --expose-gc`) so that the test runner or
 * other figures do not skew them:
 *   late binding   ns per call through a module namespace (as compiled importers call) vs a direct call
 *   call           round trips per second to one server process
 *   memory         heap growth after 500 load + purge cycles of one module
 *   packages       heap growth after 100 upgrade + downgrade cycles of a module between two release
 *                  directories with two versions of a ~1 MB npm package, and after 100 upgrades through
 *                  100 release directories (bench/package-figures.ts)
 * Prints one JSON object on stdout.
 */
import { ModuleTable } from "../src/runtime/module-table.ts";
import { Runtime } from "../src/runtime/runtime.ts";
import { startServer } from "../src/runtime/server.ts";
import { packageFigures } from "./package-figures.ts";

const quick = process.argv.includes("--quick");
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function table() {
  const t = new ModuleTable({ runtimeApi: () => ({}) });
  let n = 0;
  const load = (module: string, code: string) => {
    if (t.old(module)) t.purge(module, "brutal");
    t.load(t.compile(module, code, `/bench/${module}.js`, { vsn: ++n, sha256: String(n) }));
  };
  return { t, load };
}

/** The importer as esbuild compiles it: `__toESM(require(...))`, then `(0, ns.add)(...)` per call. */
const IMPORTER = `
var __defProp = Object.defineProperty, __getOwnPropNames = Object.getOwnPropertyNames, __getProtoOf = Object.getPrototypeOf, __hasOwnProp = Object.prototype.hasOwnProperty, __create = Object.create;
var __copyProps = (to, from, except) => { for (let key of __getOwnPropNames(from)) if (!__hasOwnProp.call(to, key) && key !== except) __defProp(to, key, { get: () => from[key], enumerable: true }); return to; };
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target, mod));
var math = __toESM(require("relup:b/math"));
exports.loop = (n) => { let s = 0; for (let i = 0; i < n; i++) s = (0, math.add)(s, i); return s; };
`;

function lateBinding(iterations: number) {
  const { t, load } = table();
  load("b/math", "exports.add = (a, b) => (a + b) | 0;");
  load("b/user", IMPORTER);
  const direct = (a: number, b: number) => (a + b) | 0;
  const directLoop = (n: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s = direct(s, i);
    return s;
  };
  // A binding that has been replaced once, as any hot-swappable function is: the honest baseline for
  // calls after a swap (V8 no longer treats the slot as a constant, so it cannot inline through it).
  const slot = { add: direct };
  slot.add = (a: number, b: number) => (a + b + 1) | 0;
  const swappedLoop = (n: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s = slot.add(s, i);
    return s;
  };
  const viaNamespace = t.namespace("b/user").loop as (n: number) => number;
  const time = (fn: (n: number) => number) => {
    fn(iterations); // warm up
    const best: number[] = [];
    for (let r = 0; r < 5; r++) {
      const start = process.hrtime.bigint();
      fn(iterations);
      best.push(Number(process.hrtime.bigint() - start) / iterations);
    }
    return Math.min(...best);
  };
  const d = time(directLoop);
  const before = time(viaNamespace);
  load("b/math", "exports.add = (a, b) => (a + b + 1) | 0;");
  const after = time(viaNamespace);
  const swapped = time(swappedLoop);
  return { directNs: d, namespaceNs: before, namespaceAfterSwapNs: after, swappedSlotNs: swapped, ratio: before / d, ratioAfterSwap: after / d, ratioAfterSwapToSwappedSlot: after / swapped };
}

async function callRate(calls: number) {
  const { t, load } = table();
  load("b/srv", "exports.init = () => 0; exports.handleCall = (r, f, s) => ({ reply: s + 1, state: s + 1 });");
  const runtime = new Runtime(t);
  const proc = await startServer(runtime, "b/srv", {});
  for (let i = 0; i < 1000; i++) await runtime.call(proc.pid, 1);
  const start = performance.now();
  for (let i = 0; i < calls; i++) await runtime.call(proc.pid, 1);
  const ms = performance.now() - start;
  return { callsPerSecond: Math.round((calls / ms) * 1000) };
}

function memory(cycles: number) {
  const { t, load } = table();
  const body = "exports.add = (a, b) => a + b; exports.table = new Array(2000).fill(0).map((_, i) => ({ i, s: 'x'.repeat(20) }));";
  load("b/mod", body);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < cycles; i++) {
    load("b/mod", `${body} exports.version = ${i};`);
    t.purge("b/mod", "brutal");
  }
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  return { cycles, heapBefore: before, heapAfter: after, growthBytes: after - before };
}

const result = {
  lateBinding: lateBinding(quick ? 2_000_000 : 20_000_000),
  call: await callRate(quick ? 20_000 : 200_000),
  memory: memory(500),
  packages: packageFigures(100),
};
process.stdout.write(JSON.stringify(result) + "\n");
