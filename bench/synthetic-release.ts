/**
 * Synthetic releases for the generator benchmark: `apps` applications of `modules / apps` modules each,
 * each module importing up to three earlier modules of its application, a mix of plain modules and
 * servers; version 2 changes every tenth module (a tenth of those changes its server state version).
 */
import { createHash } from "node:crypto";
import type { AppFile, ModuleMeta } from "../src/release/app-file.ts";
import type { ReleaseModel } from "../src/relup/release-model.ts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

export function syntheticPair(modules: number, apps: number): { from: ReleaseModel; to: ReleaseModel; changed: number } {
  const perApp = Math.max(1, Math.floor(modules / apps));
  let changed = 0;
  const make = (version: 1 | 2): AppFile[] =>
    Array.from({ length: apps }, (_, a) => {
      const app = `app${a}`;
      const mods: ModuleMeta[] = Array.from({ length: perApp }, (_, i) => {
        const id = a * perApp + i;
        const changes = version === 2 && id % 10 === 0;
        if (changes && version === 2) changed++;
        const server = i % 5 === 4;
        const vsn = server ? (changes && id % 100 === 0 ? 2 : 1) : undefined;
        const hash = sha(`${app}/${i}:${changes ? 2 : 1}`);
        return {
          name: `m${i}`,
          sha256: hash,
          vsn: vsn ?? hash,
          vsnDeclared: vsn !== undefined,
          behaviour: server ? "server" : null,
          imports: [1, 2, 3].filter((d) => i - d * 7 >= 0).map((d) => `${app}/m${i - d * 7}`),
          exports: server ? ["init", "handleCall", "codeChange"] : ["f"],
          mutableState: [],
        };
      });
      return { format: 1, name: app, version: version === 1 ? "1.0.0" : mods.some((m, i) => (a * perApp + i) % 10 === 0) ? "1.1.0" : "1.0.0", applications: [], env: {}, modules: mods };
    });
  const model = (version: 1 | 2): ReleaseModel => {
    const appFiles = make(version);
    const release = { format: 1 as const, name: "synthetic", version: `${version}.0.0`, node: ">=20", applications: appFiles.map((a) => ({ name: a.name, version: a.version })), npmDependencies: {}, files: {} };
    return { release, apps: appFiles, identity: sha(JSON.stringify(release)), appups: new Map() };
  };
  const from = model(1);
  const to = model(2);
  return { from, to, changed };
}
