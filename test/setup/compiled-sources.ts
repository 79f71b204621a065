/**
 * relup's sources compiled to JavaScript file for file, for the processes and worker threads the tests
 * start (the launcher, the node, the verify and stateSchema workers): RELUP_COMPILED_SOURCES names it
 * (see src/runtime/entry-args.ts). Started through tsx, each of them would compile and load every module
 * again (about a second of CPU per process, a node and often a launcher per test).
 *
 * The copy is .tmp/compiled-sources/<hash>/src, beside a copy of package.json (which the CLI reads as
 * `../../package.json`, as from src/ and dist/), so that the compiled CLI runs too: `<copy>/cli/main.js`.
 * The hash is of everything the compile reads: each source's path and content, tsconfig.json,
 * package.json, esbuild's version and this file. A changed source is a new folder, so a folder never
 * holds another version of the sources; one already compiled is used as it is. Folders of other hashes
 * are removed once they are an hour old (another run may still be using a recent one).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { build, version as esbuildVersion, type Plugin } from "esbuild";

const STALE_MS = 60 * 60 * 1000;

/** Compiles (or finds) the sources of the repository at `repo`; returns the folder that mirrors src/. */
export async function compileSources(repo: string): Promise<string> {
  const src = path.join(repo, "src");
  const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).sort();
  const hash = createHash("sha256");
  for (const input of [...files.map((f) => path.join(src, f)), path.join(repo, "tsconfig.json"), path.join(repo, "package.json"), import.meta.filename]) {
    hash.update(`${path.relative(repo, input)}\0`).update(await readFile(input)).update("\0");
  }
  hash.update(esbuildVersion);
  const parent = path.join(repo, ".tmp", "compiled-sources");
  const dir = path.join(parent, hash.digest("hex").slice(0, 16));
  const done = path.join(dir, ".complete");
  if (!existsSync(done)) {
    const partial = `${dir}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await build({
      entryPoints: files.map((f) => path.join(src, f)),
      outdir: path.join(partial, "src"),
      outbase: src,
      bundle: true,
      packages: "external",
      plugins: [relativeImportsAsJs],
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "error",
    });
    await copyFile(path.join(repo, "package.json"), path.join(partial, "package.json"));
    await writeFile(path.join(partial, ".complete"), "");
    await rename(partial, dir).catch(async (error: NodeJS.ErrnoException) => {
      // another run compiled the same sources first: theirs is the same
      await rm(partial, { recursive: true, force: true });
      if (!existsSync(done)) throw error;
    });
  }
  await removeStale(parent, path.basename(dir));
  return path.join(dir, "src");
}

/** Each module stays a file of its own: relative imports are left to Node, `./x.ts` as `./x.js`. */
const relativeImportsAsJs: Plugin = {
  name: "relative-imports-as-js",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => (args.kind === "entry-point" ? undefined : { path: args.path.replace(/\.ts$/, ".js"), external: true }));
  },
};

async function removeStale(parent: string, keep: string): Promise<void> {
  for (const name of await readdir(parent)) {
    if (name === keep) continue;
    const entry = path.join(parent, name);
    const info = await stat(entry).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > STALE_MS) await rm(entry, { recursive: true, force: true });
  }
}
