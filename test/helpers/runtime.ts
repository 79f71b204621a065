/** An in-memory runtime with modules given as CommonJS source, for process and supervisor tests. */
import { ManualClock } from "../../src/runtime/clock.ts";
import { ModuleTable } from "../../src/runtime/module-table.ts";
import { Runtime } from "../../src/runtime/runtime.ts";

export function testRuntime(modules: Record<string, string>, options: { manualClock?: boolean } = {}) {
  const table = new ModuleTable({ runtimeApi: () => ({}) });
  const clock = options.manualClock ? new ManualClock() : undefined;
  const runtime = new Runtime(table, clock ? { clock } : {});
  let version = 1;
  const load = (module: string, code: string, vsn: string | number = version++) => {
    if (table.old(module)) table.purge(module, "brutal");
    table.load(table.compile(module, code, `/virtual/${module}.js`, { vsn, sha256: String(vsn) }));
  };
  for (const [module, code] of Object.entries(modules)) load(module, code);
  return { table, runtime, load, clock: clock! };
}

/** A promise with its resolve exposed: lets a test hold a handler in flight and release it. */
export function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
