/**
 * Heap figures for npm package code across upgrades (part of the runtime figures; needs `node --expose-gc`):
 *   up/down     one module loaded alternately from two release directories whose node_modules hold two
 *               versions of a package that allocates about 1 MB at its top level; load + purge each
 *               time, 100 upgrade + downgrade cycles
 *   upgrades    the same module upgraded 100 times, each time from a new release directory (as every
 *               release is), load + purge each time
 * Each prints heapUsed after a forced GC before the cycles and after them. The release directories are
 * real directories under the OS temp dir, removed afterwards.
 *
 * Standalone: `node --expose-gc --import tsx bench/package-figures.ts` prints one JSON object.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ModuleTable } from "../src/runtime/module-table.ts";

const gc = (globalThis as { gc?: () => void }).gc;

/** About 1 MB of heap at the package's top level: 131,072 doubles. */
const PACKAGE = (version: string) => `exports.version = ${JSON.stringify(version)};\nexports.data = Array.from({ length: 131072 }, (_, i) => i + 0.5);\n`;
const MODULE = `const big = require("bigpkg");\nexports.size = () => big.data.length;\nexports.version = () => big.version;\n`;

function release(root: string, name: string, pkgVersion: string): string {
  const dir = path.join(root, "releases", name);
  mkdirSync(path.join(dir, "lib", "b-1"), { recursive: true });
  mkdirSync(path.join(dir, "node_modules", "bigpkg"), { recursive: true });
  writeFileSync(path.join(dir, "lib", "b-1", "mod.js"), MODULE);
  writeFileSync(path.join(dir, "node_modules", "bigpkg", "package.json"), JSON.stringify({ name: "bigpkg", version: pkgVersion, main: "index.js" }));
  writeFileSync(path.join(dir, "node_modules", "bigpkg", "index.js"), PACKAGE(pkgVersion));
  return dir;
}

function heapAfterGc(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** Load `b/mod` from each directory of `sequence` in turn, purging the old version each time. */
function cycle(sequence: readonly string[]) {
  const t = new ModuleTable({ runtimeApi: () => ({}) });
  let n = 0;
  const load = (dir: string) => {
    t.load(t.compile("b/mod", MODULE, path.join(dir, "lib", "b-1", "mod.js"), { vsn: ++n, sha256: String(n), releaseDir: dir }));
    t.purge("b/mod", "brutal");
  };
  load(sequence[0]!);
  const before = heapAfterGc();
  for (const dir of sequence.slice(1)) load(dir);
  const after = heapAfterGc();
  const expected = path.basename(sequence[sequence.length - 1]!);
  const version = (t.namespace("b/mod").version as () => string)();
  if (version !== expected) throw new Error(`the module ended on package ${version}, not ${expected}`);
  return { loads: sequence.length - 1, heapBefore: before, heapAfter: after, growthBytes: after - before };
}

export function packageFigures(cycles = 100) {
  if (!gc) throw new Error("package figures need node --expose-gc");
  const root = mkdtempSync(path.join(os.tmpdir(), "relup-bench-packages-"));
  try {
    const a = release(root, "1.0.0", "1.0.0");
    const b = release(root, "2.0.0", "2.0.0");
    const upDown = cycle([a, ...Array.from({ length: cycles }, () => [b, a]).flat()]);
    const dirs = Array.from({ length: cycles + 1 }, (_, i) => release(root, `1.${i}.0`, `1.${i}.0`));
    const upgrades = cycle(dirs);
    return { upDown: { cycles, ...upDown }, upgrades: { upgrades: cycles, ...upgrades } };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify(packageFigures()) + "\n");
}
