/**
 * `relup build`: a release project → `OUT/<name>-<version>/` and `OUT/<name>-<version>.tar.gz`.
 *
 * Phases: read the project; type-check it with its own TypeScript when it has a tsconfig.json
 * (typecheck-project.ts); compile every module (esbuild, one CommonJS file each) and read its metadata
 * by parsing; check the application graph; copy the production npm packages; record the shape of each
 * server's `stateSchema` by loading it from the staged release in a worker thread (record-state-shapes.ts);
 * write app.json files and release.json with the sha256 of every file; pack the tarball. Everything is written into a staging
 * folder inside OUT and renamed into place at the end, so a failed build leaves OUT as it was.
 */
import { copyFile, mkdtemp, readFile, rename, chmod } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { appDir, RELEASE_FILE, releaseDirName, releaseIdentity, PLANS_DIR, ReleaseFile, type ReleaseNpm } from "./release-file.ts";
import { APP_FILE, moduleFile, type AppFile, type ModuleMeta } from "./app-file.ts";
import { compileModule, type SourceApp } from "./compile-module.ts";
import { extractMetadata } from "./extract-metadata.ts";
import { collectNpmDependencies, listPackageFiles, nativeAddon, PROVIDED_BY_NODE, resolvedDependencies, type NpmPackage } from "./npm-dependencies.ts";
import { readProject, type Project } from "./read-project.ts";
import { ReleaseError, type ReleaseIssue } from "./issues.ts";
import { compareStrings, FILE_MODE, mkdirFixed, removeQuietly, sha256, toJsonText, writeFileFixed } from "./fs-utils.ts";
import { packRelease } from "./pack-release.ts";
import { removeOnInterrupt } from "../interrupt.ts";
import { findAppCycle } from "./app-graph.ts";
import { recordStateShapes } from "./record-state-shapes.ts";
import { typecheckProject, type TypecheckMode } from "./typecheck-project.ts";

export interface BuildOptions {
  /** project directory (holds relup.config.json) */
  dir: string;
  /** output directory; default `<dir>/_build` */
  out?: string;
  /** replace an existing build of the same version whose content differs */
  force?: boolean;
  /** type-check the project with its own TypeScript first (typecheck-project.ts); default "auto" */
  typecheck?: TypecheckMode;
  /**
   * Checks the plan files the release will ship (hand-written appup.json, plans/*.json). The release model
   * knows nothing of plans, so the plan layer passes this in (src/relup/build-with-plans.ts).
   */
  checkShipped?: (file: { rel: string; label: string; text: string }, release: { name: string; version: string }, apps: readonly { name: string; version: string }[]) => ReleaseIssue[];
  /**
   * Checks the shipped plan files against the identity of the release being built, known only once its
   * release.json is made (a plan to this release must have been generated from this very build).
   */
  checkShippedIdentity?: (file: { rel: string; label: string; text: string }, release: { name: string; version: string; identity: string }) => ReleaseIssue[];
}

export interface BuildResult {
  releaseDir: string;
  tarball: string;
  release: ReleaseFile;
  apps: AppFile[];
  /** what the build did that the user should know of (relup skipped, the type-check's outcome) */
  notes: string[];
}

export async function buildRelease(options: BuildOptions): Promise<BuildResult> {
  const project = await readProject(options.dir);
  const typechecked = await typecheckProject(project.dir, path.relative(process.cwd(), project.dir) || ".", options.typecheck ?? "auto");
  const outDir = path.resolve(options.out ?? path.join(project.dir, "_build"));
  const name = releaseDirName(project.config);
  const apps = await compileApps(project);
  const shipped = await shippedFiles(project);
  const shippedIssues = shipped.flatMap((f) => options.checkShipped?.(f, project.config, project.config.applications) ?? []);
  if (shippedIssues.length > 0) throw new ReleaseError(shippedIssues);

  await mkdirFixed(outDir);
  const staging = await mkdtemp(path.join(outDir, `.${name}.building-`));
  const forget = removeOnInterrupt(staging);
  try {
    const root = path.join(staging, name);
    const files = new Map<string, string>();
    const put = async (rel: string, data: string | Uint8Array) => {
      await writeFileFixed(path.join(root, rel), data);
      files.set(rel, sha256(data));
    };

    for (const app of apps) {
      for (const m of app.compiled) {
        await put(`${appDir(app.file)}/${moduleFile(m.name)}`, m.code);
        await put(`${appDir(app.file)}/${moduleFile(m.name)}.map`, m.map);
      }
    }
    for (const file of shipped) await put(file.rel, file.text);

    const npmDependencies: Record<string, string> = {};
    const packages = await collectNpmDependencies(project.dir, project.npmRanges, project.npmOverrides);
    const placed = new Set(packages.map((p) => p.installPath));
    const npm: ReleaseNpm = { direct: Object.keys(project.npmRanges).filter((n) => n !== PROVIDED_BY_NODE).sort(compareStrings), packages: {}, restart: checkRestartList(project, packages) };
    for (const pkg of packages) {
      const key = pkg.installPath.slice("node_modules/".length);
      npmDependencies[key] = pkg.version;
      const packageFiles = await listPackageFiles(pkg.sourceDir);
      const native = nativeAddon(pkg, packageFiles);
      npm.packages[key] = { dependencies: resolvedDependencies(pkg, placed), ...(native !== undefined ? { native } : {}) };
      for (const rel of packageFiles) {
        const target = path.join(root, pkg.installPath, rel);
        await mkdirFixed(path.dirname(target));
        await copyFile(path.join(pkg.sourceDir, rel), target);
        await chmod(target, FILE_MODE);
        files.set(`${pkg.installPath}/${rel}`, sha256(await readFile(target)));
      }
    }

    // The modules are staged with their npm packages: the state schemas can be read by loading them.
    const sources = new Map<string, string>(apps.flatMap((a) => a.compiled.map((m) => [`${a.file.name}/${m.name}`, m.source])));
    const shapeIssues = await recordStateShapes(root, apps.map((a) => a.file), (ref) => sources.get(ref) ?? ref);
    if (shapeIssues.length > 0) throw new ReleaseError(shapeIssues);
    for (const app of apps) await put(`${appDir(app.file)}/${APP_FILE}`, toJsonText(app.file));

    const release: ReleaseFile = {
      format: 1,
      name: project.config.name,
      version: project.config.version,
      node: project.config.node,
      applications: apps.map((a) => ({ name: a.file.name, version: a.file.version })),
      npmDependencies,
      npm,
      files: Object.fromEntries([...files].sort(([a], [b]) => compareStrings(a, b))),
    };
    const identity = releaseIdentity(release);
    const staleIssues = shipped.flatMap((f) => options.checkShippedIdentity?.(f, { name: release.name, version: release.version, identity }) ?? []);
    if (staleIssues.length > 0) throw new ReleaseError(staleIssues);
    await writeFileFixed(path.join(root, RELEASE_FILE), toJsonText(release));

    const stagedTarball = path.join(staging, `${name}.tar.gz`);
    await packRelease(staging, name, stagedTarball);

    const releaseDir = path.join(outDir, name);
    const tarball = path.join(outDir, `${name}.tar.gz`);
    await refuseOverwrite(releaseDir, release, options.force ?? false);
    await removeQuietly(releaseDir);
    await rename(root, releaseDir);
    await rename(stagedTarball, tarball);
    const notes = [
      ...(typechecked !== undefined ? [typechecked] : []),
      ...(PROVIDED_BY_NODE in project.npmRanges ? [`${PROVIDED_BY_NODE} is not copied into the release: the node provides relup/runtime (package.json dependencies.${PROVIDED_BY_NODE})`] : []),
    ];
    return { releaseDir, tarball, release, apps: apps.map((a) => a.file), notes };
  } finally {
    await removeQuietly(staging);
    forget();
  }
}

interface CompiledApp {
  file: AppFile;
  /** each module's code, and its source file as messages name it */
  compiled: { name: string; code: string; map: string; source: string }[];
}

async function compileApps(project: Project): Promise<CompiledApp[]> {
  const issues: ReleaseIssue[] = [];
  const sourceApps: SourceApp[] = project.apps.map((a) => ({ name: a.config.name, dir: a.dir }));
  const npm = new Set(project.npmDependencies);
  const label = (file: string) => path.relative(process.cwd(), file) || file;
  const out: CompiledApp[] = [];

  for (const [i, app] of project.apps.entries()) {
    const config = app.config;
    const results = await Promise.all(
      app.modules.map(async (m) => {
        const compiled = await compileModule({
          projectDir: project.dir,
          app: sourceApps[i]!,
          apps: sourceApps,
          module: m.name,
          file: m.file,
          outPath: `${appDir(config)}/${moduleFile(m.name)}`,
          npmDependencies: npm,
        });
        return { m, compiled };
      }),
    );
    const modules: ModuleMeta[] = [];
    const compiled: CompiledApp["compiled"] = [];
    for (const { m, compiled: result } of results) {
      if (!result.ok) {
        for (const detail of result.errors) issues.push({ code: "build-failed", file: label(m.file), detail: `does not compile: ${detail}`, fix: "correct the source" });
        continue;
      }
      const meta = extractMetadata(result.value.esm);
      if (!meta.ok) {
        issues.push({ code: "build-failed", file: label(m.file), field: meta.field, detail: meta.detail, fix: "declare it with a literal value" });
        continue;
      }
      for (const ref of result.value.imports) {
        const target = ref.slice(0, ref.indexOf("/"));
        if (target !== config.name && !config.applications.includes(target)) {
          issues.push({
            code: "build-failed",
            file: label(m.file),
            field: "imports",
            detail: `imports ${ref} of application ${JSON.stringify(target)}, which ${JSON.stringify(config.name)} does not depend on`,
            fix: `add "${target}" to the \`applications\` of ${JSON.stringify(config.name)} in relup.config.json, so it starts first`,
          });
        }
      }
      const hash = sha256(result.value.code);
      modules.push({
        name: m.name,
        sha256: hash,
        vsn: meta.value.vsn ?? hash,
        vsnDeclared: meta.value.vsn !== null,
        behaviour: meta.value.behaviour,
        imports: result.value.imports,
        packages: result.value.packages,
        exports: meta.value.exports,
        mutableState: meta.value.mutableState,
      });
      compiled.push({ name: m.name, code: result.value.code, map: result.value.map, source: label(m.file) });
    }
    const start = config.start ? modules.find((m) => m.name === config.start) : undefined;
    if (start && start.behaviour !== "application") {
      issues.push({
        code: "build-failed",
        file: label(app.modules.find((m) => m.name === start.name)!.file),
        field: "behaviour",
        detail: `is ${JSON.stringify(start.behaviour)}, but it is the start module of ${JSON.stringify(config.name)}`,
        fix: 'declare `export const behaviour = "application"` and export `start` (and optionally `stop`)',
      });
    }
    const file: AppFile = {
      format: 1,
      name: config.name,
      version: config.version,
      ...(config.description !== undefined ? { description: config.description } : {}),
      ...(config.start !== undefined ? { start: config.start } : {}),
      applications: [...config.applications],
      env: config.env,
      modules: modules.sort((a, b) => compareStrings(a.name, b.name)),
    };
    out.push({ file, compiled });
  }
  const cycle = findAppCycle(out.map((a) => a.file));
  if (cycle) {
    issues.push({
      code: "build-failed",
      file: "relup.config.json",
      field: "applications",
      detail: `applications depend on each other in a cycle: ${cycle.join(" → ")}`,
      fix: "break the cycle; an application can only start after the ones it depends on",
    });
  }
  if (issues.length > 0) throw new ReleaseError(issues);
  return out;
}

/**
 * The plan files the release ships: each application's hand-written appup.json, and the project's plans
 * that lead to this version (`plans/<anything>-<version>.json`; the plan checks match the name with the
 * content). Plans to other versions stay in the project: they belong to the releases they lead to.
 */
async function shippedFiles(project: Project): Promise<{ rel: string; label: string; text: string }[]> {
  const out: { rel: string; label: string; text: string }[] = [];
  for (const app of project.apps) {
    const source = path.join(app.dir, "appup.json");
    if (existsSync(source)) out.push({ rel: `${appDir(app.config)}/appup.json`, label: path.relative(process.cwd(), source), text: await readFile(source, "utf8") });
  }
  for (const file of project.planFiles.filter((f) => path.basename(f).endsWith(`-${project.config.version}.json`))) {
    out.push({ rel: `${PLANS_DIR}/${path.basename(file)}`, label: path.relative(process.cwd(), file), text: await readFile(file, "utf8") });
  }
  return out;
}

/** relup.config.json `npm.restart`, each name a package the release ships (a misspelt name would restart nothing). */
function checkRestartList(project: Project, packages: readonly NpmPackage[]): string[] {
  const restart = project.config.npm?.restart ?? [];
  const shipped = new Set(packages.map((p) => p.name));
  const issues: ReleaseIssue[] = restart.flatMap((name, i) =>
    shipped.has(name)
      ? []
      : [{ code: "build-failed" as const, file: path.join(path.relative(process.cwd(), project.dir) || ".", "relup.config.json"), field: `npm.restart[${i}]`, detail: `names ${JSON.stringify(name)}, which is not an npm package of the release`, fix: `correct the name, or remove it from npm.restart (the release ships: ${[...shipped].sort(compareStrings).join(", ") || "no npm package"})` }],
  );
  if (issues.length > 0) throw new ReleaseError(issues);
  return [...new Set(restart)].sort(compareStrings);
}

/**
 * Releases are immutable: a second build of the same version must give the same release. An existing
 * build whose release.json differs is kept unless `force` says to replace it. One that differs only in the
 * plans it ships is the same release (same identity): shipping a plan generated from it, or a plan from
 * another version, replaces it without --force, so writing a plan never needs a forced rebuild.
 */
async function refuseOverwrite(releaseDir: string, release: ReleaseFile, force: boolean): Promise<void> {
  const existing = path.join(releaseDir, RELEASE_FILE);
  if (force || !existsSync(existing)) return;
  const text = await readFile(existing, "utf8");
  if (text === toJsonText(release)) return;
  if (sameIdentity(text, releaseIdentity(release))) return;
  throw new ReleaseError([
    {
      code: "build-failed",
      file: releaseDir,
      detail: "already holds a different build of this version: a release version names one immutable build",
      fix: "bump `version` in relup.config.json (and the versions of the changed applications), or pass --force to replace it",
    },
  ]);
}

function sameIdentity(existingText: string, identity: string): boolean {
  try {
    const parsed = ReleaseFile.safeParse(JSON.parse(existingText));
    return parsed.success && releaseIdentity(parsed.data) === identity;
  } catch {
    return false;
  }
}
