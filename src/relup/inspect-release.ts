/**
 * `relup inspect` as a library call: read a release through the safe reader, check the plan files it
 * ships (appups, plans/), and answer with what it holds. Nothing stays open or on disk afterwards.
 */
import type { AppFile } from "../release/app-file.ts";
import { readRelease } from "../release/read-release.ts";
import type { ReleaseFile } from "../release/release-file.ts";
import { checkShippedPlans } from "./shipped-plans.ts";

export interface InspectedRelease {
  release: ReleaseFile;
  apps: AppFile[];
  identity: string;
}

export async function inspectRelease(source: string): Promise<InspectedRelease> {
  const loaded = await readRelease(source);
  try {
    await checkShippedPlans(loaded.dir, source, loaded.release, loaded.apps);
    return { release: loaded.release, apps: loaded.apps, identity: loaded.identity };
  } finally {
    await loaded.close();
  }
}
