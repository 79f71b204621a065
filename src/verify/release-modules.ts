/**
 * The modules of a built release, loaded in a worker thread for `relup verify` and for the build's
 * reading of `stateSchema`: one module table per release, each module loaded with what it imports, its
 * `relup/runtime` the stand-in whose process functions throw (a worker has no node to talk to).
 */
import type { AppFile } from "../release/app-file.ts";
import { ModuleTable } from "../runtime/module-table.ts";
import { readObjectCode } from "../runtime/node.ts";
import * as standIns from "../runtime/public.ts";

export interface ReleaseCode {
  dir: string;
  apps: AppFile[];
}

/** `relup/runtime` in a worker: as in a node's codeChange, `self()` is undefined; the process functions throw. */
const WORKER_API = { ...standIns, self: () => undefined };

export function loadTable(release: ReleaseCode): ModuleTable {
  const table: ModuleTable = new ModuleTable({ runtimeApi: () => WORKER_API, onMissing: (module) => load(table, release, module) });
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
