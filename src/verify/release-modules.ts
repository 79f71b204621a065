/**
 * The modules of a built release, loaded in a worker thread for `relup verify` and for the build's
 * reading of `stateSchema`: one module table per release, each module loaded with what it imports, its
 * `relup/runtime` the stand-in whose process functions throw (a worker has no node to talk to).
 *
 * `getEnv` answers as in a node during an install: a migration up sees the env of the release it goes
 * to, a migration down the env of the release it returns to (the executor sets the env before the code
 * changes). `useEnv` says which; outside a migration it is the module's own release's env.
 */
import type { AppFile } from "../release/app-file.ts";
import type { Json } from "../release/names.ts";
import { ModuleTable } from "../runtime/module-table.ts";
import { readObjectCode } from "../runtime/node.ts";
import * as standIns from "../runtime/public.ts";

export interface ReleaseCode {
  dir: string;
  apps: AppFile[];
}

/** Application → env: its app.json defaults under the operator's overrides (the root's config.json). */
export type EnvByApp = ReadonlyMap<string, Record<string, Json>>;

export function envOf(release: ReleaseCode, overrides: Record<string, Record<string, Json>> = {}): EnvByApp {
  return new Map(release.apps.map((a) => [a.name, { ...a.env, ...(overrides[a.name] ?? {}) }]));
}

let migrationEnv: EnvByApp | undefined;

/** The env `getEnv` answers with from now on (undefined: each module's own release's). */
export function useEnv(env: EnvByApp | undefined): void {
  migrationEnv = env;
}

/** `relup/runtime` in a worker: as in a node's codeChange, `self()` is undefined; the process functions throw. */
function workerApi(release: ReleaseCode, module: string) {
  const own = envOf(release);
  const app = module.slice(0, module.indexOf("/"));
  return {
    ...standIns,
    self: () => undefined,
    getEnv: <T = Json>(key?: string, application = app): T => {
      const env = (migrationEnv ?? own).get(application) ?? {};
      return (key === undefined ? { ...env } : env[key]) as T;
    },
  };
}

export function loadTable(release: ReleaseCode): ModuleTable {
  const table: ModuleTable = new ModuleTable({ runtimeApi: (module) => workerApi(release, module), onMissing: (module) => load(table, release, module) });
  return table;
}

function load(table: ModuleTable, release: ReleaseCode, module: string): void {
  table.load(readObjectCode(table, release.dir, release.apps, module));
}

/** The exports of `module` in `table`, loading it (and what it imports) first. */
export function exportsOf(table: ModuleTable, release: ReleaseCode, module: string): Record<string, unknown> {
  if (!table.isLoaded(module)) load(table, release, module);
  return table.namespace(module);
}
