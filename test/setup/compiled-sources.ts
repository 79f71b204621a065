/**
 * relup's sources compiled to JavaScript file for file, for the processes and worker threads the tests
 * start (the launcher, the node, the verify and stateSchema workers): RELUP_COMPILED_SOURCES names it
 * (see src/runtime/entry-args.ts). Started through tsx, each of them would compile and load every module
 * again (about a second of CPU per process, a node and often a launcher per test). The entry points of
 * the node, the launcher and the workers are single files (below).
 *
 * The copy is .tmp/compiled-sources/<hash>/src, beside a copy of package.json (which the CLI reads as
 * `../../package.json`, as from src/ and dist/), so that the compiled CLI runs too: `<copy>/cli/main.js`.
 * The hash is of everything the compile reads: each source's path and content, tsconfig.json,
 * package.json, the installed packages' versions, esbuild's version and this file. A changed source is
 * a new folder, so a folder never holds another version of the sources; one already compiled is used as
 * it is. Folders of other hashes are removed once they are an hour old (another run may still be using
 * a recent one).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build, version as esbuildVersion, type Plugin } from "esbuild";

const STALE_MS = 60 * 60 * 1000;

/** Compiles (or finds) the sources of the repository at `repo`; returns the folder that mirrors src/. */
export async function compileSources(repo: string): Promise<string> {
  const src = path.join(repo, "src");
  const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).sort();
  const hash = createHash("sha256");
  // node_modules/.package-lock.json: npm's record of the installed packages, some of which are bundled
  const inputs = [...files.map((f) => path.join(src, f)), ...["tsconfig.json", "package.json", "node_modules/.package-lock.json"].map((f) => path.join(repo, f)), import.meta.filename];
  for (const input of inputs) {
    hash.update(`${path.relative(repo, input)}\0`).update(await readFile(input).catch(() => "(none)")).update("\0");
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
    // The entry points of the node, the launcher and the workers as single files, with the packages they
    // import: each start then loads one module, not seventy of relup's and a hundred of zod's (a third
    // of its start-up CPU). Each of relup's modules still sees its own import.meta.
    const entries = BUNDLED_ENTRIES.filter((entry) => files.includes(`${entry}.ts`));
    if (entries.length > 0) await build({
      entryPoints: entries.map((entry) => ({ in: path.join(src, `${entry}.ts`), out: entry })),
      outdir: path.join(partial, "src"),
      bundle: true,
      // etcd3 (the launcher's fleet membership) loads its gRPC .proto files from beside its own files: it
      // stays a package, resolved from the repository's node_modules
      external: ["etcd3"],
      // for the CommonJS packages' require() of Node's modules
      banner: { js: `import { createRequire as relupCreateRequire } from "node:module";\nconst require = relupCreateRequire(import.meta.url);` },
      plugins: [ownImportMeta(src, path.join(dir, "src"))],
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "error",
      allowOverwrite: true,
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

/** The files the node, the launcher and the verify and stateSchema workers start from (src/runtime/entry-args.ts). */
const BUNDLED_ENTRIES = ["runtime/node-main", "runtime/launcher-main", "verify/worker", "verify/state-shape-worker"];

/**
 * In a bundle, `import.meta` would be the bundle's: each module's is written out as that of its own file
 * in the copy (where entry-args finds the entry points beside it, and the CLI its package.json).
 */
function ownImportMeta(src: string, out: string): Plugin {
  return {
    name: "own-import-meta",
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!args.path.startsWith(src + path.sep)) return undefined;
        const file = path.join(out, path.relative(src, args.path)).replace(/\.ts$/, ".js");
        const meta: Record<string, string> = { url: pathToFileURL(file).href, dirname: path.dirname(file), filename: file };
        const text = await readFile(args.path, "utf8");
        return { contents: text.replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_, key: string) => JSON.stringify(meta[key])), loader: "ts" };
      });
    },
  };
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
