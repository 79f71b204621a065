/**
 * A built release as plan generation sees it: its manifests, the sha256 of its release.json, and the
 * hand-written appups it ships. Pure data; `loadReleaseModel` (load-release-model.ts) reads one from disk.
 */
import type { AppupFile } from "../appup/instruction.ts";
import type { AppFile, ModuleMeta } from "../release/app-file.ts";
import type { ReleaseFile } from "../release/release-file.ts";

export interface ReleaseModel {
  release: ReleaseFile;
  apps: AppFile[];
  identity: string;
  /** hand-written appups by application name, with the path they were read from (for messages) */
  appups: ReadonlyMap<string, { file: string; appup: AppupFile }>;
}

export function findApp(model: ReleaseModel, name: string): AppFile | undefined {
  return model.apps.find((a) => a.name === name);
}

/** `app/module` → its metadata, across all applications of the release. */
export function moduleIndex(model: ReleaseModel): Map<string, { app: AppFile; module: ModuleMeta }> {
  const index = new Map<string, { app: AppFile; module: ModuleMeta }>();
  for (const app of model.apps) for (const module of app.modules) index.set(`${app.name}/${module.name}`, { app, module });
  return index;
}

export function label(model: ReleaseModel): string {
  return `${model.release.name} ${model.release.version}`;
}
