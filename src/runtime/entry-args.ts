/**
 * How relup starts its own processes and worker threads (the launcher, the node, the verify and
 * stateSchema workers). relup runs in one of two forms, and each file knows which by its own extension:
 * - the installed package: compiled JavaScript in dist/, started with plain `node` (no tsx);
 * - the repository: the TypeScript sources in src/, started through tsx (tests, the demo, `bin/relup.js`).
 * A child always runs in the form of its parent, so a build of dist/ never mixes with edited sources.
 *
 * From the sources, RELUP_COMPILED_SOURCES may name a folder holding those same sources compiled to
 * JavaScript file for file (`src/runtime/node-main.ts` as `<folder>/runtime/node-main.js`): children then
 * start from it without tsx, which compiles and loads every module again at each start. The test suite's
 * setup compiles that folder, named by a hash of the sources, so it never holds another version of them.
 * The installed package ignores the variable.
 */
import path from "node:path";
import { tsEntryArgs } from "./tsx-entry.ts";

/** true when this file is a TypeScript source (run through tsx), false when it is compiled JavaScript */
export const FROM_SOURCES = import.meta.url.endsWith(".ts");

/** src/, the folder the compiled copy mirrors */
const SOURCES = path.join(import.meta.dirname, "..");

/** The compiled copy of the sources children start from, when running from the sources and one is named. */
function compiledSources(): string | undefined {
  return FROM_SOURCES ? process.env.RELUP_COMPILED_SOURCES || undefined : undefined;
}

/**
 * Arguments that run relup's entry point `name` (a file of src/runtime without its extension) in a new
 * Node process: `[file]` from dist/ (or the compiled copy), `["--import", tsx, file]` from the sources.
 */
export function entryArgs(name: string): string[] {
  if (!FROM_SOURCES) return [path.join(import.meta.dirname, `${name}.js`)];
  const compiled = compiledSources();
  return compiled ? [path.join(compiled, "runtime", `${name}.js`)] : tsEntryArgs(`${name}.ts`);
}

/**
 * The file a worker thread starts from: `<name>.js` next to `dir` in dist/ (or in the compiled copy); from
 * the sources, the small `<name>-entry.mjs` that registers tsx and imports `<name>.ts` (a worker cannot
 * start from a .ts file).
 */
export function workerEntry(dir: string, name: string): string {
  if (!FROM_SOURCES) return path.join(dir, `${name}.js`);
  const compiled = compiledSources();
  return compiled ? path.join(compiled, path.relative(SOURCES, dir), `${name}.js`) : path.join(dir, `${name}-entry.mjs`);
}
