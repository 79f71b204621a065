/**
 * A copy of the npm-restart-listed fixture pair (its upgrade is a restart_new_emulator: the package it
 * changes, tiny-pad, is listed under `npm.restart`) whose 1.1.0 also bumps its application's version, so
 * that the copies' sources can be edited by a test.
 */
import { cp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

export async function copyRestartPair(dir: string): Promise<{ from: string; to: string }> {
  for (const version of ["1.0.0", "1.1.0"]) await cp(path.join("fixtures/npm-restart-listed", version), path.join(dir, version), { recursive: true });
  const config = path.join(dir, "1.1.0/relup.config.json");
  const release = JSON.parse(await readFile(config, "utf8")) as { applications: { version: string }[] };
  release.applications[0]!.version = "1.1.0";
  await writeFile(config, JSON.stringify(release, null, 2));
  return { from: path.join(dir, "1.0.0"), to: path.join(dir, "1.1.0") };
}
