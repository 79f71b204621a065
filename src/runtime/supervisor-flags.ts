/**
 * A supervisor's flags and child specs as its callback module's `init(args)` returns them (and
 * `start_child` gives one): read through their schema, module names qualified with the supervisor's
 * application, ids checked unique. See supervisor.ts for what they mean.
 */
import { z } from "zod";
import { MAX_TIMEOUT_MS, tooLongTimeout } from "../appup/instruction.ts";
import { qualifyModule } from "./module-table.ts";
import type { Runtime } from "./runtime.ts";

export const ChildSpecInput = z.object({
  id: z.string().min(1),
  module: z.string().min(1),
  args: z.unknown().optional(),
  name: z.string().min(1).optional(),
  modules: z.array(z.string()).optional(),
  restart: z.enum(["permanent", "transient", "temporary"]).default("permanent"),
  shutdown: z.union([z.number().int().nonnegative().max(MAX_TIMEOUT_MS, { error: (issue) => tooLongTimeout(issue.input) }), z.literal("brutal_kill"), z.literal("infinity")]).default(5000),
});
const SupFlags = z.object({
  strategy: z.enum(["one_for_one", "one_for_all", "rest_for_one"]).default("one_for_one"),
  intensity: z.number().int().nonnegative().default(3),
  period: z.number().positive().default(5),
  children: z.array(ChildSpecInput),
});
export type ChildSpecInput = z.input<typeof ChildSpecInput>;
/** What a supervisor module's init may return, as its schema reads it (behaviours.ts types it for users). */
export type SupervisorInitResult = z.input<typeof SupFlags>;
export type ChildSpec = z.output<typeof ChildSpecInput> & { module: string; modules: string[] };
export type Strategy = z.output<typeof SupFlags>["strategy"];

export function readFlags(runtime: Runtime, module: string, args: unknown) {
  const init = runtime.table.namespace(module).init;
  if (typeof init !== "function") throw new Error(`${module} cannot run as a supervisor: it does not export init`);
  const parsed = SupFlags.safeParse(init(args));
  if (!parsed.success) throw new Error(`${module}.init returned invalid supervisor flags: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  // One string per module name, not one per child: a fleet's specs name the same few modules.
  const names = new Map<string, string>();
  const children = parsed.data.children.map((c) => qualifySpec(module, c, names));
  const seen = new Set<string>();
  const repeated = children.find((c) => seen.size === seen.add(c.id).size)?.id;
  if (repeated !== undefined) throw new Error(`${module}.init returned two children with id ${JSON.stringify(repeated)}`);
  return { ...parsed.data, children };
}

/** No declared modules: one array for every spec without any (never modified). */
const NO_MODULES: string[] = Object.freeze([]) as unknown as string[];

/**
 * A child's module names are the supervisor's application's unless qualified (`core/store`). The spec
 * has every field in one literal (one shape for every child, its fields inside the object).
 */
export function qualifySpec(supervisor: string, spec: z.output<typeof ChildSpecInput>, names = new Map<string, string>()): ChildSpec {
  const modules = spec.modules === undefined || spec.modules.length === 0 ? NO_MODULES : spec.modules.map((m) => qualified(supervisor, m, names));
  return { id: spec.id, module: qualified(supervisor, spec.module, names), args: spec.args, name: spec.name, modules, restart: spec.restart, shutdown: spec.shutdown };
}

function qualified(supervisor: string, module: string, names: Map<string, string>): string {
  let name = names.get(module);
  if (name === undefined) names.set(module, (name = qualifyModule(supervisor, module)));
  return name;
}
