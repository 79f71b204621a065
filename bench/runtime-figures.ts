/**
 * Runtime figures, measured in a fresh Node process (`node --expose-gc`) so that the test runner or
 * other figures do not skew them:
 *   late binding   ns per call through a module namespace (as compiled importers call) vs a direct call,
 *                  and after a code swap vs a swapped plain slot (bench/late-binding.ts)
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
import { lateBinding } from "./late-binding.ts";
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
  lateBinding: await lateBinding(quick ? 2_000_000 : 20_000_000),
  call: await callRate(quick ? 20_000 : 200_000),
  memory: memory(500),
  packages: packageFigures(100),
};
process.stdout.write(JSON.stringify(result) + "\n");
