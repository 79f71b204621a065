/**
 * `release.json`: the manifest at the root of a built release (ARCHITECTURE §3).
 *
 *   format           always 1; a reader refuses any other value
 *   name, version    the release; the release directory is `<name>-<version>`
 *   node             the Node engine range the release runs on
 *   applications     [{name, version}]; each is `lib/<name>-<version>/` with its app.json
 *   npmDependencies  every production npm package shipped in node_modules/: install path → version
 *   files            sha256 of every other file in the release, by path relative to the release dir
 */
import { z } from "zod";
import { sha256, toJsonText } from "./fs-utils.ts";
import { AppName, Sha256, Version, VersionRange } from "./names.ts";

export const AppRef = z.object({ name: AppName, version: Version }).strict();

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
    files: z
      .record(z.string(), Sha256)
      .describe("sha256 of every file of the release except release.json, by relative path"),
  })
  .strict()
  .describe("release.json: the manifest of a built relup release");
export type ReleaseFile = z.infer<typeof ReleaseFile>;

export const RELEASE_FILE = "release.json";

/** The plan a release may ship (relup.json at its root); it is left out of the release's identity. */
export const SHIPPED_PLAN = "relup.json";

/**
 * The identity of a release: the sha256 of its release.json as the build writes it, with the shipped
 * plan left out of `files`. Plans name the releases they go between by identity, so a plan can ship in
 * the very release it upgrades to; for a release that ships no plan it is the sha256 of release.json.
 */
export function releaseIdentity(release: ReleaseFile): string {
  const files = Object.fromEntries(Object.entries(release.files).filter(([file]) => file !== SHIPPED_PLAN));
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
