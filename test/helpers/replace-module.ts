/** A module of an unpacked release replaced after its build, with every hash that lists it made to match. */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { APP_FILE, moduleFile } from "../../src/release/app-file.ts";
import { sha256 } from "../../src/release/fs-utils.ts";
import { appDir } from "../../src/release/release-file.ts";

/** Replace a module's compiled file in an unpacked release, with its hashes in app.json and release.json made to match (a build that emitted broken code). */
export async function replaceModule(dir: string, app: { name: string; version: string }, module: string, text: string): Promise<void> {
  const appJson = path.join(dir, appDir(app), APP_FILE);
  const meta = JSON.parse(await readFile(appJson, "utf8")) as { modules: { name: string; sha256: string }[] };
  meta.modules.find((m) => m.name === module)!.sha256 = sha256(text);
  const appText = JSON.stringify(meta, null, 2) + "\n";
  const rel = `${appDir(app)}/${moduleFile(module)}`;
  await writeFile(path.join(dir, rel), text);
  await writeFile(appJson, appText);
  const manifest = path.join(dir, "release.json");
  const release = JSON.parse(await readFile(manifest, "utf8")) as { files: Record<string, string> };
  release.files[rel] = sha256(text);
  release.files[`${appDir(app)}/${APP_FILE}`] = sha256(appText);
  await writeFile(manifest, JSON.stringify(release, null, 2) + "\n");
}
