/** Read a release (directory or tarball) with the safe reader, plus the hand-written appups it ships. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { APPUP_FILE, AppupFile } from "../appup/instruction.ts";
import { ReleaseError } from "../release/issues.ts";
import { parseJsonFile } from "../release/parse-json-file.ts";
import { readRelease, type ReadReleaseOptions } from "../release/read-release.ts";
import { appDir } from "../release/release-file.ts";
import type { ReleaseModel } from "./release-model.ts";

export async function loadReleaseModel(source: string, options: ReadReleaseOptions = {}): Promise<ReleaseModel> {
  const loaded = await readRelease(source, options);
  try {
    const appups = new Map<string, { file: string; appup: AppupFile }>();
    for (const app of loaded.apps) {
      const rel = `${appDir(app)}/${APPUP_FILE}`;
      if (loaded.release.files[rel] === undefined) continue;
      const label = `${source}:${rel}`;
      const parsed = parseJsonFile(label, await readFile(path.join(loaded.dir, rel), "utf8"), AppupFile);
      if (!parsed.ok) throw new ReleaseError(parsed.issues);
      appups.set(app.name, { file: label, appup: parsed.value });
    }
    return { release: loaded.release, apps: loaded.apps, identity: loaded.identity, appups };
  } finally {
    await loaded.close();
  }
}
