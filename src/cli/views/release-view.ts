import pc from "picocolors";
import type { AppFile } from "../../release/app-file.ts";
import type { ReleaseFile } from "../../release/release-file.ts";

/** The applications and modules of a release, one line each, for `build` and `inspect`. */
export function renderReleaseContents(release: ReleaseFile, apps: readonly AppFile[], color: boolean): string[] {
  const c = pc.createColors(color);
  const lines: string[] = [];
  for (const app of apps) {
    const deps = app.applications.length ? `, needs ${app.applications.join(", ")}` : "";
    lines.push(`  ${c.bold(app.name)} ${app.version}${app.start ? ` (start: ${app.start}${deps})` : deps ? ` (${deps.slice(2)})` : ""}`);
    for (const m of app.modules) {
      const tags = [m.behaviour, m.vsnDeclared ? `vsn ${m.vsn}` : undefined, m.exports.includes("codeChange") ? "codeChange" : undefined]
        .filter(Boolean)
        .join(", ");
      const state = m.mutableState.length ? c.yellow(` module state: ${m.mutableState.join(", ")}`) : "";
      lines.push(`    ${m.name}${tags ? c.dim(` [${tags}]`) : ""}${m.imports.length ? c.dim(` → ${m.imports.join(", ")}`) : ""}${state}`);
    }
  }
  const npm = Object.entries(release.npmDependencies);
  if (npm.length > 0) lines.push(`  node_modules: ${npm.map(([name, version]) => `${name}@${version}`).join(", ")}`);
  return lines;
}
