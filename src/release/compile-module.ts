/**
 * Compile one release module with esbuild into one CommonJS file plus its source map.
 *
 * Each module stays its own unit of upgrade: every import is left external, never bundled. Imports of
 * other release modules are rewritten to their canonical specifier `relup:<app>/<module>`, which the
 * runtime's module table resolves to that module's one namespace object; npm packages, `node:` built-ins
 * and `relup/runtime` stay as written. esbuild emits calls through the imported namespace
 * (`(0, import_math.add)(...)`), so callers reach new code after a reload (late binding). Importers hold
 * that namespace object itself, not esbuild's interop copy of it (read-namespaces-directly.ts).
 *
 * The imports are read from esbuild's own resolution, so they are exactly what the compiled file requires.
 */
import { builtinModules } from "node:module";
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import * as esbuild from "esbuild";
import { MODULE_SPECIFIER_PREFIX } from "./names.ts";
import { readNamespacesDirectly } from "./read-namespaces-directly.ts";


export interface SourceApp {
  name: string;
  /** absolute path of the application's source folder */
  dir: string;
}

export interface CompileInput {
  projectDir: string;
  app: SourceApp;
  apps: readonly SourceApp[];
  module: string;
  file: string;
  /** `lib/<app>-<vsn>/<module>.js`, used to make source map paths relative and stable */
  outPath: string;
  npmDependencies: ReadonlySet<string>;
}

export interface CompiledModule {
  code: string;
  map: string;
  /** the source with its types stripped, as written otherwise, for metadata extraction */
  esm: string;
  imports: string[];
  /** the npm packages it requires, by package name */
  packages: string[];
}

export type CompileResult = { ok: true; value: CompiledModule } | { ok: false; errors: string[] };

const BUILTINS: ReadonlySet<string> = new Set(builtinModules);
const SOURCE_EXTENSIONS = [".ts", ".mts", ".tsx"];

export async function compileModule(input: CompileInput): Promise<CompileResult> {
  const source = await readFile(input.file, "utf8");
  const imports = new Set<string>();
  const packages = new Set<string>();
  const errors: string[] = [];
  const outfile = path.join(input.projectDir, input.outPath);
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    // The source comes in through stdin so that no package.json above the project (its "type" field)
    // changes the output: the same sources compile to the same bytes wherever the project lies.
    result = await esbuild.build({
      stdin: {
        contents: source,
        sourcefile: path.basename(input.file),
        resolveDir: path.dirname(input.file),
        loader: loaderFor(input.file),
      },
      absWorkingDir: input.projectDir,
      outfile,
      write: false,
      bundle: true,
      format: "cjs",
      platform: "node",
      target: "node20",
      sourcemap: "linked",
      sourcesContent: true,
      charset: "utf8",
      logLevel: "silent",
      tsconfigRaw: {},
      plugins: [
        {
          name: "relup-modules",
          setup(build: esbuild.PluginBuild) {
            build.onResolve({ filter: /.*/ }, (args) => {
              if (args.kind === "entry-point") return undefined;
              // The node compiles each module with vm.compileFunction, which has no dynamic import: an
              // `import()` would compile, then fail when it runs (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING).
              if (args.kind === "dynamic-import") return { errors: [{ text: `import(${JSON.stringify(args.path)}) cannot run in a release module: the node loads modules without dynamic import; import it statically at the top of the module instead (a release module's static import is late-bound: calls reach its current code)` }] };
              const resolved = resolveImport(args.path, args.resolveDir, input);
              if ("error" in resolved) return { errors: [{ text: resolved.error }] };
              if (resolved.module) imports.add(resolved.module);
              if (resolved.package) packages.add(resolved.package);
              return { path: resolved.specifier, external: true };
            });
          },
        },
      ],
    });
  } catch (error) {
    const failure = error as esbuild.BuildFailure;
    for (const e of failure.errors ?? [{ text: String(error) }]) errors.push(describeMessage(e, path.relative(process.cwd(), input.file)));
    return { ok: false, errors };
  }
  const js = result.outputFiles.find((f) => f.path.endsWith(".js"));
  const map = result.outputFiles.find((f) => f.path.endsWith(".js.map"));
  if (!js || !map) return { ok: false, errors: ["esbuild produced no output"] };

  const stripped = await esbuild.transform(source, {
    loader: loaderFor(input.file),
    target: "esnext",
    tsconfigRaw: {},
    logLevel: "silent",
  });
  const direct = readNamespacesDirectly(js.text, map.text);
  return { ok: true, value: { code: direct.code, map: direct.map, esm: stripped.code, imports: [...imports].sort(), packages: [...packages].sort() } };
}

type Resolved = { specifier: string; module?: string; package?: string } | { error: string };

function resolveImport(spec: string, resolveDir: string, input: CompileInput): Resolved {
  if (spec.startsWith(".") || path.isAbsolute(spec)) {
    const file = resolveSourceFile(path.resolve(resolveDir, spec));
    if (!file) return { error: `cannot find the module ${JSON.stringify(spec)} (looked for .ts, .mts, .tsx and index.ts)` };
    const owner = input.apps.find((a) => file.startsWith(a.dir + path.sep));
    if (!owner) {
      return {
        error: `imports ${JSON.stringify(spec)}, which is outside every application of the release; move it into an application folder or into an npm package`,
      };
    }
    const moduleName = toModuleName(path.relative(owner.dir, file));
    const ref = `${owner.name}/${moduleName}`;
    return { specifier: MODULE_SPECIFIER_PREFIX + ref, module: ref };
  }
  if (spec.startsWith("node:") || BUILTINS.has(spec)) return { specifier: spec };
  if (spec === "relup" || spec.startsWith("relup/")) return { specifier: spec };
  const pkg = packageName(spec);
  if (input.npmDependencies.has(pkg)) return { specifier: spec, package: pkg };
  return {
    error: `imports the npm package ${JSON.stringify(pkg)}, which is not in the project's package.json \`dependencies\`; add it there so it ships in the release`,
  };
}

function resolveSourceFile(base: string): string | undefined {
  const candidates = [
    base,
    ...SOURCE_EXTENSIONS.map((ext) => base + ext),
    ...[".js", ".mjs", ".jsx"].flatMap((js) =>
      base.endsWith(js) ? SOURCE_EXTENSIONS.map((ext) => base.slice(0, -js.length) + ext) : [],
    ),
    ...SOURCE_EXTENSIONS.map((ext) => path.join(base, "index" + ext)),
  ];
  return candidates.find((c) => SOURCE_EXTENSIONS.some((ext) => c.endsWith(ext)) && isFile(c));
}

function loaderFor(file: string): esbuild.Loader {
  return file.endsWith(".tsx") ? "tsx" : "ts";
}

function isFile(file: string): boolean {
  return existsSync(file) && statSync(file).isFile();
}

/** `http/router.ts` → `http/router`. */
export function toModuleName(relativeFile: string): string {
  return relativeFile.split(path.sep).join("/").replace(/\.(ts|mts|tsx)$/, "");
}

function packageName(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? spec);
}

/** `apps/demo/a.ts:3:7: message`; every message of a module's build is about that module's source. */
function describeMessage(message: esbuild.PartialMessage, file: string): string {
  const loc = message.location;
  const where = loc ? `${file}:${loc.line}:${loc.column}: ` : "";
  return `${where}${message.text ?? "unknown error"}`;
}
