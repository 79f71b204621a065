/**
 * `relup.config.json`: the input of `relup build`, at the root of a release project.
 *
 *   format        always 1
 *   name          the release name
 *   version       the release version (semver)
 *   node          the Node engine range the release runs on (default ">=20")
 *   applications  each a folder of TypeScript sources:
 *     name, version      the application
 *     path               its folder, relative to the project (default `apps/<name>`); every `.ts` file
 *                        under it is a module, except `*.d.ts`, `*.test.ts` and `*.spec.ts`
 *     start              its start module (behaviour `application`), if it is started
 *     applications       applications it depends on: started before it, stopped after it
 *     env                default configuration, overridable when the release starts
 *     description        one line for humans
 *
 *   npm           how changes of npm packages are upgraded (optional):
 *     restart            packages whose change (version, content, added or removed) makes the upgrade
 *                        restart the node instead of reloading their importers hot
 *
 * Production npm dependencies come from the project's package.json `dependencies`, as installed.
 * The plans in `plans/` next to the config (`<from>-<to>.json`) that lead to this version are shipped in the release.
 */
import { z } from "zod";
import { AppName, Json, ModuleName, Version, VersionRange } from "./names.ts";

export const ProjectApp = z
  .object({
    name: AppName,
    version: Version,
    path: z.string().min(1).optional(),
    start: ModuleName.optional(),
    applications: z.array(AppName).default([]),
    env: z.record(z.string(), Json).default({}),
    description: z.string().optional(),
  })
  .strict();
export type ProjectApp = z.infer<typeof ProjectApp>;

export const ProjectNpm = z
  .object({
    restart: z
      .array(z.string().min(1))
      .default([])
      .describe("npm packages that cannot be reloaded in place: a change of one of them makes the upgrade a node restart"),
  })
  .strict()
  .describe("How changes of npm packages are upgraded");

export const ProjectConfig = z
  .object({
    $schema: z.string().optional(),
    format: z.literal(1),
    name: AppName,
    version: Version,
    node: VersionRange.default(">=20"),
    applications: z.array(ProjectApp).min(1),
    npm: ProjectNpm.optional(),
  })
  .strict()
  .describe("relup.config.json: a release project, the input of `relup build`");
export type ProjectConfig = z.infer<typeof ProjectConfig>;

export const PROJECT_CONFIG_FILE = "relup.config.json";
