import path from "node:path";
import pc from "picocolors";
import type { BuildResult } from "../../release/build-release.ts";

export function renderBuild(result: BuildResult, options: { json: boolean; ms: number; color: boolean }): string {
  const c = pc.createColors(options.color);
  const rel = (p: string) => path.relative(process.cwd(), p) || ".";
  if (options.json) {
    return JSON.stringify({ releaseDir: result.releaseDir, tarball: result.tarball, release: result.release, apps: result.apps }, null, 2) + "\n";
  }
  const lines = [
    `${c.green("built")} ${c.bold(`${result.release.name} ${result.release.version}`)} in ${Math.round(options.ms)} ms`,
    `  ${rel(result.releaseDir)}/`,
    `  ${rel(result.tarball)}`,
  ];
  for (const app of result.apps) {
    lines.push(`  ${c.bold(app.name)} ${app.version}${app.start ? ` (start: ${app.start})` : ""}`);
    for (const m of app.modules) {
      const tags = [m.behaviour, m.vsnDeclared ? `vsn ${m.vsn}` : undefined, m.exports.includes("codeChange") ? "codeChange" : undefined]
        .filter(Boolean)
        .join(", ");
      lines.push(`    ${m.name}${tags ? c.dim(` [${tags}]`) : ""}${m.imports.length ? c.dim(` → ${m.imports.join(", ")}`) : ""}`);
    }
  }
  const npm = Object.keys(result.release.npmDependencies).length;
  if (npm > 0) lines.push(`  node_modules: ${npm} package${npm === 1 ? "" : "s"}`);
  return lines.join("\n") + "\n";
}
