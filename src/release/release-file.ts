/**
 * `release.json`: the manifest at the root of a built release (ARCHITECTURE §3).
 *
 *   format           always 1; a reader refuses any other value
 *   name, version    the release; the release directory is `<name>-<version>`
 *   node             the Node engine range the release runs on
 *   applications     [{name, version}]; each is `lib/<name>-<version>/` with its app.json
 *   npmDependencies  every production npm package shipped in node_modules/: install path → version
 *   npm              what plans need to upgrade those packages (absent in releases built before it was
 *                    recorded): the project's direct dependencies; per package (same keys as
 *                    npmDependencies) the packages its dependencies resolve to in this release and, if it
 *                    has one, where its native addon shows; the packages the project says must restart
 *   files            sha256 of every other file in the release, by path relative to the release dir
 */
import { z } from "zod";
import { sha256, toJsonText } from "./fs-utils.ts";
import { AppName, Sha256, Version, VersionRange } from "./names.ts";

export const AppRef = z.object({ name: AppName, version: Version }).strict();

export const NpmPackageMeta = z
  .object({
    dependencies: z.array(z.string()).describe("The packages its dependencies resolve to in this release (keys of npmDependencies)"),
    native: z.string().optional().describe("Why it has a native addon (a `.node` file, binding.gyp, `gypfile`): it cannot be reloaded in place"),
  })
  .strict();
export type NpmPackageMeta = z.infer<typeof NpmPackageMeta>;

export const ReleaseNpm = z
  .object({
    direct: z.array(z.string()).describe("The project's package.json `dependencies`, by name"),
    packages: z.record(z.string(), NpmPackageMeta).describe("Each package of npmDependencies, by the same key"),
    restart: z.array(z.string()).describe("relup.config.json `npm.restart`: packages whose change restarts the node"),
  })
  .strict()
  .describe("What plans need to upgrade the release's npm packages");
export type ReleaseNpm = z.infer<typeof ReleaseNpm>;

export const ReleaseFile = z
  .object({
    format: z.literal(1),
    name: AppName,
    version: Version,
    node: VersionRange,
    applications: z.array(AppRef).min(1),
    npmDependencies: z
      .record(z.string(), Version)
      .describe("Every npm package in node_modules/: its path under node_modules/ → its version"),
    npm: ReleaseNpm.optional(),
    files: z
      .record(z.string(), Sha256)
      .describe("sha256 of every file of the release except release.json, by relative path"),
  })
  .strict()
  .describe("release.json: the manifest of a built relup release");
export type ReleaseFile = z.infer<typeof ReleaseFile>;

export const RELEASE_FILE = "release.json";

/**
 * The plans a release ships: `plans/<from>-<to>.json` at its root, one per version it can be upgraded
 * from (OTP's UpFrom list in one relup file). They are left out of the release's identity.
 */
export const PLANS_DIR = "plans";

/** `plans/<from>-<to>.json`: where the plan from one version to another lives, in a project and in a release. */
export function planFileName(from: string, to: string): string {
  return `${from}-${to}.json`;
}

/** Whether a file of a release (its path relative to the release) is a shipped plan. */
export function isShippedPlan(rel: string): boolean {
  return rel.startsWith(`${PLANS_DIR}/`);
}

/**
 * The identity of a release: the sha256 of its release.json as the build writes it, with the shipped
 * plans left out of `files`. Plans name the releases they go between by identity, so plans can ship in
 * the very release they upgrade to, and a plan added later does not change the release it leads to;
 * for a release that ships no plan it is the sha256 of release.json.
 */
export function releaseIdentity(release: ReleaseFile): string {
  const files = Object.fromEntries(Object.entries(release.files).filter(([file]) => !isShippedPlan(file)));
  return sha256(toJsonText({ ...release, files }));
}

/** `lib/<app>-<vsn>`: where an application of a release lives. */
export function appDir(app: { name: string; version: string }): string {
  return `lib/${app.name}-${app.version}`;
}

/** The directory name of a built release, also the top-level directory of its tarball. */
export function releaseDirName(release: { name: string; version: string }): string {
  return `${release.name}-${release.version}`;
}
