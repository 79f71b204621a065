/** Read a release (directory or tarball) with the safe reader, plus the plan files it ships, checked. */
import { readRelease, type LoadedRelease, type ReadReleaseOptions } from "../release/read-release.ts";
import type { ReleaseModel } from "./release-model.ts";
import { checkShippedPlans } from "./shipped-plans.ts";

export async function loadReleaseModel(source: string, options: ReadReleaseOptions = {}): Promise<ReleaseModel> {
  const loaded = await readRelease(source, options);
  try {
    return await releaseModelOf(loaded, source);
  } finally {
    await loaded.close();
  }
}

/** The model of a release already read (and still open), with its shipped plan files checked. */
export async function releaseModelOf(loaded: LoadedRelease, source: string): Promise<ReleaseModel> {
  const appups = await checkShippedPlans(loaded.dir, source, loaded.release, loaded.apps);
  return { release: loaded.release, apps: loaded.apps, identity: loaded.identity, appups };
}
