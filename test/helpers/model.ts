/**
 * Release models built in memory, for table and property tests of plan generation: a module is
 * described by what generation reads (behaviour, vsn, imports, exports) and a content tag whose change
 * stands for a change of its compiled code.
 */
import { createHash } from "node:crypto";
import type { AppupFile } from "../../src/appup/instruction.ts";
import type { AppFile, ModuleMeta } from "../../src/release/app-file.ts";
import type { Json } from "../../src/release/names.ts";
import type { ReleaseModel } from "../../src/relup/release-model.ts";

export interface ModuleSpec {
  name: string;
  /** stands for the module's code: change it to change the module's sha256 */
  code?: string;
  behaviour?: ModuleMeta["behaviour"];
  vsn?: string | number;
  imports?: string[];
  exports?: string[];
  mutableState?: string[];
  /** the npm packages it requires, by name (recorded only in releases given `packages`) */
  packages?: string[];
}

/** An npm package of a release with the metadata package upgrades read: its version, what it depends on, a native addon. */
export interface PackageSpec {
  version: string;
  dependencies?: string[];
  native?: string;
  /** stands for its files: change it to change its content at the same version */
  content?: string;
}

export interface AppSpec {
  name: string;
  version: string;
  modules: ModuleSpec[];
  applications?: string[];
  env?: Record<string, Json>;
  start?: string;
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * `npm`: packages by version only, as in a release built before package metadata was recorded;
 * `packages`: packages with that metadata (`direct` the project's dependencies, default every top-level
 * package; `restart` relup.config.json npm.restart), and modules' `packages` recorded.
 */
export function model(spec: {
  name?: string;
  version: string;
  apps: AppSpec[];
  npm?: Record<string, string>;
  packages?: Record<string, PackageSpec>;
  direct?: string[];
  restart?: string[];
  node?: string;
  appups?: AppupFile[];
}): ReleaseModel {
  const recorded = spec.packages !== undefined;
  const apps: AppFile[] = spec.apps.map((a) => ({
    format: 1,
    name: a.name,
    version: a.version,
    ...(a.start ? { start: a.start } : {}),
    applications: a.applications ?? [],
    env: a.env ?? {},
    modules: a.modules.map((m) => {
      const hash = sha(`${a.name}/${m.name}:${m.code ?? "v1"}`);
      return {
        name: m.name,
        sha256: hash,
        vsn: m.vsn ?? hash,
        vsnDeclared: m.vsn !== undefined,
        behaviour: m.behaviour ?? null,
        imports: m.imports ?? [],
        ...(recorded ? { packages: m.packages ?? [] } : {}),
        exports: m.exports ?? [],
        mutableState: m.mutableState ?? [],
      };
    }),
  }));
  const release = {
    format: 1 as const,
    name: spec.name ?? "rel",
    version: spec.version,
    node: spec.node ?? ">=20",
    applications: apps.map((a) => ({ name: a.name, version: a.version })),
    npmDependencies: spec.npm ?? Object.fromEntries(Object.entries(spec.packages ?? {}).map(([k, p]) => [k, p.version])),
    ...(recorded
      ? {
          npm: {
            direct: spec.direct ?? Object.keys(spec.packages!).filter((k) => !k.includes("/node_modules/")),
            packages: Object.fromEntries(Object.entries(spec.packages!).map(([k, p]) => [k, { dependencies: p.dependencies ?? [], ...(p.native ? { native: p.native } : {}) }])),
            restart: spec.restart ?? [],
          },
        }
      : {}),
    files: Object.fromEntries(Object.entries(spec.packages ?? {}).map(([k, p]) => [`node_modules/${k}/index.js`, sha(`${k}@${p.version}:${p.content ?? ""}`)])),
  };
  return {
    release,
    apps,
    identity: sha(JSON.stringify({ release, apps })),
    appups: new Map((spec.appups ?? []).map((u) => [u.application, { file: `lib/${u.application}-${u.version}/appup.json`, appup: u }])),
  };
}
