import pc from "picocolors";
import type { AppFile } from "../../release/app-file.ts";
import type { ReleaseFile } from "../../release/release-file.ts";
import { packageName } from "../../relup/package-changes.ts";

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
      const uses = [...m.imports, ...(m.packages ?? []).map((p) => `npm:${p}`)];
      lines.push(`    ${m.name}${tags ? c.dim(` [${tags}]`) : ""}${uses.length ? c.dim(` → ${uses.join(", ")}`) : ""}${state}`);
    }
  }
  const npm = Object.entries(release.npmDependencies);
  if (npm.length > 0) {
    const restart = new Set(release.npm?.restart ?? []);
    const mark = (name: string) => {
      const why = [release.npm?.packages[name]?.native !== undefined ? "native addon" : undefined, restart.has(packageName(name)) ? "npm.restart" : undefined].filter(Boolean);
      return why.length > 0 ? c.yellow(` (${why.join(", ")}: a change restarts the node)`) : "";
    };
    lines.push(`  node_modules: ${npm.map(([name, version]) => `${name}@${version}${mark(name)}`).join(", ")}`);
  }
  return lines;
}
