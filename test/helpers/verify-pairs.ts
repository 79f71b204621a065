/**
 * Release pairs for `relup verify` tests, built into the test's temporary folders: a fixture's two
 * versions, or a small two-version project of server modules whose stateSchema and codeChange are given.
 */
import path from "node:path";
import { expect } from "vitest";
import { buildRelease } from "../../src/relup/build-with-plans.ts";
import type { VerifyReport } from "../../src/verify/report.ts";
import { writeProject } from "./project.ts";

export const FIXTURES = path.join(import.meta.dirname, "..", "..", "fixtures");

export const OLD_SCHEMA = `export const stateSchema = z.object({ n: z.int(), tags: z.array(z.string()) });\n`;
export const NEW_SCHEMA = `export const stateSchema = z.object({ n: z.int(), tags: z.array(z.string()), note: z.string() });\n`;
export const DOWN = `if (v && v.down === 1) { const { note, ...rest } = s; return rest; }\n`;

export const config = (version: string) => ({ format: 1, name: "demo", version, applications: [{ name: "demo", version }] });

/** The one module a report verified. */
export function only(report: VerifyReport) {
  expect(report.modules).toHaveLength(1);
  return report.modules[0]!;
}

export function useReleasePairs(tempDir: () => Promise<string>) {
  async function fixturePair(name: string, from: string, to: string): Promise<{ from: string; to: string }> {
    const out = await tempDir();
    const a = await buildRelease({ dir: path.join(FIXTURES, name, from), out });
    const b = await buildRelease({ dir: path.join(FIXTURES, name, to), out });
    return { from: a.tarball, to: b.tarball };
  }

  /** A release pair of server modules `demo/<name>`, each with OLD_SCHEMA in 1.0.0 and NEW_SCHEMA plus the given code in 1.1.0 (or the schemas given). */
  async function modulesPair(newCode: Record<string, string>, schemas = { old: OLD_SCHEMA, new: NEW_SCHEMA }): Promise<{ from: string; to: string }> {
    const dir = await tempDir();
    const header = (vsn: number) => `import { z } from "relup/runtime";\nexport const behaviour = "server";\nexport const vsn = ${vsn};\nexport function init() { return {}; }\n${vsn === 1 ? schemas.old : schemas.new}`;
    const files = (vsn: number) => Object.fromEntries(Object.entries(newCode).map(([name, code]) => [`apps/demo/${name}.ts`, header(vsn) + (vsn === 2 ? code : "")]));
    await writeProject(path.join(dir, "v1"), { config: config("1.0.0"), files: files(1) });
    await writeProject(path.join(dir, "v2"), { config: config("1.1.0"), files: files(2) });
    const a = await buildRelease({ dir: path.join(dir, "v1"), out: path.join(dir, "build") });
    const b = await buildRelease({ dir: path.join(dir, "v2"), out: path.join(dir, "build") });
    return { from: a.tarball, to: b.tarball };
  }

  /** A release pair whose only change is the server module `store`, vsn 1 → 2. */
  async function storePair(oldStore: string, newStore: string): Promise<{ from: string; to: string }> {
    const dir = await tempDir();
    const out = path.join(dir, "build");
    const header = (vsn: number) => `import { z } from "relup/runtime";\nexport const behaviour = "server";\nexport const vsn = ${vsn};\nexport function init() { return {}; }\n`;
    await writeProject(path.join(dir, "v1"), { config: config("1.0.0"), files: { "apps/demo/store.ts": header(1) + oldStore } });
    await writeProject(path.join(dir, "v2"), { config: config("1.1.0"), files: { "apps/demo/store.ts": header(2) + newStore } });
    const a = await buildRelease({ dir: path.join(dir, "v1"), out });
    const b = await buildRelease({ dir: path.join(dir, "v2"), out });
    return { from: a.tarball, to: b.tarball };
  }

  return { fixturePair, modulesPair, storePair };
}
