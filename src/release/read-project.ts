/**
 * Read a release project (the input of `relup build`): its relup.config.json, the modules of each
 * application (every `.ts` file under the application's folder), and its package.json dependencies.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { toModuleName } from "./compile-module.ts";
import type { ReleaseIssue } from "./issues.ts";
import { ReleaseError } from "./issues.ts";
import { ModuleName } from "./names.ts";
import { parseJsonFile } from "./parse-json-file.ts";
import { PROJECT_CONFIG_FILE, ProjectConfig, type ProjectApp } from "./project-config.ts";
import { PLANS_DIR, planFileName } from "./release-file.ts";

export interface ProjectModule {
  name: string;
  /** absolute path of the source file */
  file: string;
}

export interface Project {
  dir: string;
  config: ProjectConfig;
  apps: { config: ProjectApp; dir: string; modules: ProjectModule[] }[];
  /** names from package.json `dependencies` */
  npmDependencies: string[];
  /** package.json `dependencies`: name → version range as written */
  npmRanges: Record<string, string>;
  /** package.json `overrides` (npm), as written */
  npmOverrides: unknown;
  /** the committed plans (`plans/*.json`, absolute paths, sorted): the build ships those that lead to this release */
  planFiles: string[];
}

const EXCLUDED = /(\.d\.ts|\.test\.ts|\.spec\.ts|\.test\.tsx|\.spec\.tsx)$/;

export async function readProject(given: string): Promise<Project> {
  // The project folder, or its relup.config.json.
  const dir = path.basename(given) === PROJECT_CONFIG_FILE ? path.dirname(given) : given;
  const projectDir = path.resolve(dir);
  const configPath = path.join(projectDir, PROJECT_CONFIG_FILE);
  const configLabel = path.join(dir, PROJECT_CONFIG_FILE);
  if (!existsSync(configPath)) {
    throw new ReleaseError([{ code: "build-failed", file: configLabel, detail: "not found: a release project is a folder with a relup.config.json", fix: "run `relup build <project folder>`; docs/project.md shows the file" }]);
  }
  const parsed = parseJsonFile(configLabel, await readFile(configPath, "utf8"), ProjectConfig, "correct relup.config.json; docs/project.md lists every field.");
  if (!parsed.ok) throw new ReleaseError(parsed.issues);
  const config = parsed.value;
  const issues: ReleaseIssue[] = [];

  const names = config.applications.map((a) => a.name);
  config.applications.forEach((app, i) => {
    if (names.indexOf(app.name) !== i) {
      issues.push({ code: "build-failed", file: configLabel, field: `applications[${i}].name`, detail: `repeats application ${JSON.stringify(app.name)}`, fix: "give each application a unique name" });
    }
    app.applications.forEach((dep, j) => {
      if (!names.includes(dep)) {
        issues.push({ code: "unknown-reference", file: configLabel, field: `applications[${i}].applications[${j}]`, ref: dep, kind: "application" });
      }
    });
  });

  const apps: Project["apps"] = [];
  for (const [i, app] of config.applications.entries()) {
    const appDir = path.resolve(projectDir, app.path ?? path.join("apps", app.name));
    const info = await stat(appDir).catch(() => undefined);
    if (!info?.isDirectory()) {
      issues.push({ code: "build-failed", file: configLabel, field: `applications[${i}].path`, detail: `folder ${JSON.stringify(path.relative(projectDir, appDir))} does not exist`, fix: "create it, or set `path` to the folder of the application's sources" });
      continue;
    }
    const files = (await listFiles(appDir)).filter((f) => /\.(ts|mts|tsx)$/.test(f) && !EXCLUDED.test(f));
    const modules = files.map((f) => ({ name: toModuleName(path.relative(appDir, f)), file: f }));
    for (const m of modules) {
      if (!ModuleName.safeParse(m.name).success) {
        issues.push({ code: "build-failed", file: path.relative(projectDir, m.file), detail: `is not a valid module name (${JSON.stringify(m.name)})`, fix: "rename the file with letters, digits, '_', '-' and '.' only" });
      }
    }
    if (modules.length === 0) {
      issues.push({ code: "build-failed", file: configLabel, field: `applications[${i}].path`, detail: `folder ${JSON.stringify(path.relative(projectDir, appDir))} holds no .ts module`, fix: "add the application's TypeScript sources" });
    }
    if (app.start !== undefined && !modules.some((m) => m.name === app.start)) {
      issues.push({ code: "unknown-reference", file: configLabel, field: `applications[${i}].start`, ref: app.start, kind: "module" });
    }
    apps.push({ config: app, dir: appDir, modules });
  }
  for (const [i, a] of apps.entries()) {
    for (const b of apps.slice(i + 1)) {
      if (a.dir === b.dir || a.dir.startsWith(b.dir + path.sep) || b.dir.startsWith(a.dir + path.sep)) {
        issues.push({ code: "build-failed", file: configLabel, field: "applications", detail: `applications ${JSON.stringify(a.config.name)} and ${JSON.stringify(b.config.name)} share source folders`, fix: "give each application its own folder, not nested in another's" });
      }
    }
  }
  if (issues.length > 0) throw new ReleaseError(issues);

  const legacy = await legacyPlanIssue(projectDir, dir);
  if (legacy) throw new ReleaseError([legacy]);
  const { ranges: npmRanges, overrides: npmOverrides } = await readNpmDependencies(projectDir, dir);
  return {
    dir: projectDir,
    config,
    apps,
    npmDependencies: Object.keys(npmRanges).sort(),
    npmRanges,
    npmOverrides,
    planFiles: await listPlanFiles(path.join(projectDir, PLANS_DIR)),
  };
}

/** `plans/*.json`, sorted; other files and folders there are not plans and are left alone. */
async function listPlanFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new ReleaseError([{ code: "invalid-field", file: dir, field: PLANS_DIR, detail: `cannot be read as the plans folder (${error.code ?? error.message})`, fix: `make ${dir} a folder of plan files (plans/<from>-<to>.json); \`relup generate <from> <to> -o plans/\` writes them there` }]);
  });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".json")).map((e) => path.join(dir, e.name)).sort();
}

/**
 * A project's `relup.json` (one plan, from before plans were kept per upgrade path) is refused with the
 * place it moves to: reading it as one more plan would keep two ways of naming a plan's path, one of them
 * not in its file name.
 */
async function legacyPlanIssue(projectDir: string, label: string): Promise<ReleaseIssue | undefined> {
  const file = path.join(projectDir, "relup.json");
  if (!existsSync(file)) return undefined;
  let target = `${PLANS_DIR}/<from>-<to>.json`;
  try {
    const plan = JSON.parse(await readFile(file, "utf8")) as { from?: { version?: unknown }; to?: { version?: unknown } };
    if (typeof plan.from?.version === "string" && typeof plan.to?.version === "string") target = `${PLANS_DIR}/${planFileName(plan.from.version, plan.to.version)}`;
  } catch {
    // Not JSON: the generic name is the fix.
  }
  return {
    code: "build-failed",
    file: path.join(label, "relup.json"),
    detail: "is a plan in the old place: a project keeps one plan per upgrade path in plans/<from>-<to>.json, and the release ships every plan that leads to it",
    fix: `move it: \`mkdir -p ${path.join(label, PLANS_DIR)} && git mv ${path.join(label, "relup.json")} ${path.join(label, target)}\` (docs/project.md#committed-plans-plansfrom-tojson)`,
  };
}

async function readNpmDependencies(projectDir: string, label: string): Promise<{ ranges: Record<string, string>; overrides: unknown }> {
  const file = path.join(projectDir, "package.json");
  if (!existsSync(file)) return { ranges: {}, overrides: undefined };
  let pkg: unknown;
  try {
    pkg = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new ReleaseError([{ code: "invalid-json", file: path.join(label, "package.json"), detail: (error as Error).message, fix: "correct package.json." }]);
  }
  const { dependencies: deps, overrides } = pkg as { dependencies?: unknown; overrides?: unknown };
  if (deps === undefined) return { ranges: {}, overrides };
  if (typeof deps !== "object" || deps === null || Array.isArray(deps)) {
    throw new ReleaseError([{ code: "invalid-field", file: path.join(label, "package.json"), field: "dependencies", detail: "must be an object of package names to versions", fix: "correct package.json." }]);
  }
  return { ranges: Object.fromEntries(Object.entries(deps as Record<string, unknown>).map(([name, range]) => [name, String(range)])), overrides };
}

/** Every regular file under `dir`, sorted, skipping node_modules and dot folders. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules" && !entry.name.startsWith(".")) out.push(...(await listFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}
