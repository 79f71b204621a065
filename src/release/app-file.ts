/**
 * `lib/<app>-<vsn>/app.json`: one application of a built release (ARCHITECTURE §3).
 *
 * Module metadata is extracted at build time by parsing the sources, never by running them:
 *   behaviour     `server`, `supervisor`, `application`, or null, from `export const behaviour = "..."`
 *   vsn           from `export const vsn = ...` (a string or number literal); `vsnDeclared` false means
 *                 the module did not declare one and `vsn` is its sha256
 *   imports       the release modules it imports, as `app/module`, sorted
 *   packages      the npm packages it requires, by package name, sorted (absent in releases built before
 *                 it was recorded)
 *   exports       its exported names, sorted (`codeChange` among them marks a stateful migration)
 *   mutableState  module-level bindings that hold mutable data (`let`, `var`, `new Map()`...): lost on reload
 *   stateShape    servers that export `stateSchema` only: its structure (state-shape.ts), read by loading the
 *                 compiled module in a worker thread at build time, so that generation never runs user code
 */
import { z } from "zod";
import { AppName, Json, ModuleName, ModuleRef, Sha256, Version } from "./names.ts";
import { StateShape } from "./state-shape.ts";

export const Behaviour = z.enum(["server", "supervisor", "application"]);
export type Behaviour = z.infer<typeof Behaviour>;

export const ModuleMeta = z
  .object({
    name: ModuleName,
    sha256: Sha256.describe("sha256 of the compiled module file `<name>.js`"),
    vsn: z.union([z.string(), z.number()]),
    vsnDeclared: z.boolean(),
    behaviour: Behaviour.nullable(),
    imports: z.array(ModuleRef),
    packages: z.array(z.string()).optional().describe("The npm packages the module requires, by package name"),
    exports: z.array(z.string()),
    mutableState: z.array(z.string()),
    stateShape: StateShape.optional().describe("The structure of the `stateSchema` a server module exports (kinds and fields, no checks)"),
  })
  .strict();
export type ModuleMeta = z.infer<typeof ModuleMeta>;

export const AppFile = z
  .object({
    format: z.literal(1),
    name: AppName,
    version: Version,
    description: z.string().optional(),
    start: ModuleName.optional().describe("The application's start module (behaviour `application`)"),
    applications: z.array(AppName).describe("Applications that must be started before this one"),
    env: z.record(z.string(), Json).describe("Default configuration, overridable at start"),
    modules: z.array(ModuleMeta),
  })
  .strict()
  .describe("app.json: one application of a built relup release");
export type AppFile = z.infer<typeof AppFile>;

export const APP_FILE = "app.json";

/** A module's compiled file inside its application directory. */
export function moduleFile(module: string): string {
  return `${module}.js`;
}
