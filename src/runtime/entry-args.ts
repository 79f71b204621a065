/**
 * How relup starts its own processes and worker threads (the launcher, the node, the verify and
 * stateSchema workers). relup runs in one of two forms, and each file knows which by its own extension:
 * - the installed package: compiled JavaScript in dist/, started with plain `node` (no tsx);
 * - the repository: the TypeScript sources in src/, started through tsx (tests, the demo, `bin/relup.js`).
 * A child always runs in the form of its parent, so a build of dist/ never mixes with edited sources.
 */
import path from "node:path";
import { tsEntryArgs } from "./tsx-entry.ts";

/** true when this file is a TypeScript source (run through tsx), false when it is compiled JavaScript */
export const FROM_SOURCES = import.meta.url.endsWith(".ts");

/**
 * Arguments that run relup's entry point `name` (a file of src/runtime without its extension) in a new
 * Node process: `[file]` from dist/, `["--import", tsx, file]` from the sources.
 */
export function entryArgs(name: string): string[] {
  return FROM_SOURCES ? tsEntryArgs(`${name}.ts`) : [path.join(import.meta.dirname, `${name}.js`)];
}

/**
 * The file a worker thread starts from: `<name>.js` next to `dir` in dist/; from the sources, the small
 * `<name>-entry.mjs` that registers tsx and imports `<name>.ts` (a worker cannot start from a .ts file).
 */
export function workerEntry(dir: string, name: string): string {
  return path.join(dir, FROM_SOURCES ? `${name}-entry.mjs` : `${name}.js`);
}
