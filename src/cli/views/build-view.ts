import path from "node:path";
import pc from "picocolors";
import type { BuildResult } from "../../release/build-release.ts";
import { renderReleaseContents } from "./release-view.ts";

export function renderBuild(result: BuildResult, options: { json: boolean; ms: number; color: boolean }): string {
  if (options.json) {
    return JSON.stringify({ releaseDir: result.releaseDir, tarball: result.tarball, release: result.release, apps: result.apps, notes: result.notes }, null, 2) + "\n";
  }
  const c = pc.createColors(options.color);
  const rel = (p: string) => path.relative(process.cwd(), p) || ".";
  return [
    `${c.green("built")} ${c.bold(`${result.release.name} ${result.release.version}`)} in ${Math.round(options.ms)} ms`,
    `  ${rel(result.releaseDir)}/`,
    `  ${rel(result.tarball)}`,
    ...renderReleaseContents(result.release, result.apps, options.color),
    ...result.notes.map((note) => `${c.dim("note:")} ${note}`),
  ].join("\n") + "\n";
}
