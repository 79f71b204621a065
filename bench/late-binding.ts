/**
 * ns per call through a module namespace, before and after a code swap, against a direct call and
 * against a plain object slot holding a function that was replaced once.
 *
 * The importer is compiled by relup's own compile step (compileModule: esbuild plus what relup does to
 * its output) from TypeScript source, so the figure measures the code a release really runs.
 *
 * Both replaceable bindings are treated alike: their loops run (and are optimized) with the first
 * function, the binding is replaced, and then they are measured. A slot replaced before its loop ever ran
 * would measure a call site that only ever saw one target, which V8 inlines: that is not a swap.
 *
 * Standalone: `node --import tsx bench/late-binding.ts` prints one JSON object.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { compileModule } from "../src/release/compile-module.ts";
import { ModuleTable } from "../src/runtime/module-table.ts";

const MATH_V1 = "export const add = (a: number, b: number) => (a + b) | 0;\n";
const MATH_V2 = "export const add = (a: number, b: number) => (a + b + 1) | 0;\n";
const USER = `import * as math from "./math";
export const loop = (n: number) => {
  let s = 0;
  for (let i = 0; i < n; i++) s = math.add(s, i);
  return s;
};
`;

async function compiled(files: Record<string, string>): Promise<Record<string, string>> {
  const projectDir = mkdtempSync(path.join(os.tmpdir(), "relup-bench-late-"));
  try {
    const app = { name: "b", dir: path.join(projectDir, "apps", "b") };
    mkdirSync(app.dir, { recursive: true });
    const out: Record<string, string> = {};
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(app.dir, `${name}.ts`);
      writeFileSync(file, text);
      const result = await compileModule({ projectDir, app, apps: [app], module: name, file, outPath: `lib/b-1.0.0/${name}.js`, npmDependencies: new Set() });
      if (!result.ok) throw new Error(result.errors.join("\n"));
      out[name] = result.value.code;
    }
    return out;
  } finally {
    rmSync(projectDir, { recursive: true, force: true });
  }
}

export async function lateBinding(iterations = 20_000_000) {
  const code = await compiled({ math: MATH_V1, user: USER });
  const mathV2 = (await compiled({ math: MATH_V2 })).math!;
  const t = new ModuleTable({ runtimeApi: () => ({}) });
  let n = 0;
  const load = (module: string, text: string) => {
    if (t.old(module)) t.purge(module, "brutal");
    t.load(t.compile(module, text, `/bench/${module}.js`, { vsn: ++n, sha256: String(n) }));
  };
  load("b/math", code.math!);
  load("b/user", code.user!);
  const viaNamespace = t.namespace("b/user").loop as (n: number) => number;

  const direct = (a: number, b: number) => (a + b) | 0;
  const directLoop = (n: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s = direct(s, i);
    return s;
  };
  // The cheapest replaceable binding in JavaScript; V8 stops inlining through it once it is replaced.
  const slot = { add: direct };
  const slotLoop = (n: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s = slot.add(s, i);
    return s;
  };
  // The best of 7 runs of each loop after a warm-up, the loops taking turns so that a change in the
  // machine's load weighs on both alike.
  const time = (...fns: ((n: number) => number)[]) => {
    for (const fn of fns) fn(iterations);
    const best = fns.map(() => Infinity);
    for (let r = 0; r < 7; r++) {
      fns.forEach((fn, i) => {
        const start = process.hrtime.bigint();
        fn(iterations);
        best[i] = Math.min(best[i]!, Number(process.hrtime.bigint() - start) / iterations);
      });
    }
    return best;
  };
  const [d, before] = time(directLoop, viaNamespace) as [number, number];
  time(slotLoop);
  load("b/math", mathV2);
  slot.add = (a: number, b: number) => (a + b + 1) | 0;
  const [after, swapped] = time(viaNamespace, slotLoop) as [number, number];
  return { directNs: d, namespaceNs: before, namespaceAfterSwapNs: after, swappedSlotNs: swapped, ratio: before / d, ratioAfterSwap: after / d, ratioAfterSwapToSwappedSlot: after / swapped };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify(await lateBinding()) + "\n");
}
