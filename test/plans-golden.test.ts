/**
 * The plan of every fixture pair, up and down, as JSON (the relup file), text and Markdown, pinned in
 * golden files next to the fixture (`fixtures/<case>/plan.*`). They are reviewed like code: a change to
 * generation shows up as a diff of these files.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildRelease } from "../src/release/build-release.ts";
import { checkPlanMeaning } from "../src/relup/check-plan-meaning.ts";
import { formatPlanIssue } from "../src/relup/issues.ts";
import { loadReleaseModel } from "../src/relup/load-release-model.ts";
import { planReleases } from "../src/relup/plan-releases.ts";
import { relupFileText } from "../src/relup/relup-file-io.ts";
import { renderPlanMarkdown } from "../src/relup/render/render-markdown.ts";
import { renderPlanText } from "../src/relup/render/render-text.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();
const FIXTURES = path.join(import.meta.dirname, "..", "fixtures");
const pairs = readdirSync(FIXTURES).map((c) => {
  const versions = readdirSync(path.join(FIXTURES, c), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  return [c, versions[0]!, versions[1]!] as const;
});

describe("golden plans", () => {
  it.each(pairs)("%s %s → %s", async (fixture, from, to) => {
    const out = await tempDir();
    const a = await buildRelease({ dir: path.join(FIXTURES, fixture, from), out });
    const b = await buildRelease({ dir: path.join(FIXTURES, fixture, to), out });
    const plan = await planReleases({ from: a.tarball, to: b.tarball });
    // What the node checks before it runs a plan: every golden plan means what its releases need.
    expect(checkPlanMeaning(plan.file, await loadReleaseModel(a.tarball), await loadReleaseModel(b.tarball)).map(formatPlanIssue)).toEqual([]);
    const normalize = (text: string) => text.split(out).join("<build>");
    await expect(normalize(relupFileText(plan.file))).toMatchFileSnapshot(path.join(FIXTURES, fixture, "plan.json"));
    await expect(normalize(renderPlanText(plan))).toMatchFileSnapshot(path.join(FIXTURES, fixture, "plan.txt"));
    await expect(normalize(renderPlanMarkdown(plan))).toMatchFileSnapshot(path.join(FIXTURES, fixture, "plan.md"));
  });
});
