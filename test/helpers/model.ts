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

export function model(spec: { name?: string; version: string; apps: AppSpec[]; npm?: Record<string, string>; node?: string; appups?: AppupFile[] }): ReleaseModel {
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
    npmDependencies: spec.npm ?? {},
    files: {},
  };
  return {
    release,
    apps,
    identity: sha(JSON.stringify({ release, apps })),
    appups: new Map((spec.appups ?? []).map((u) => [u.application, { file: `lib/${u.application}-${u.version}/appup.json`, appup: u }])),
  };
}
