/**
 * `npm run demo`: the seed story, as far as relup goes today. Builds calculator 1.0.0 and 1.1.0 from
 * fixtures/, verifies both tarballs with the safe reader, and prints the upgrade plan between them.
 * Applying it to a running node comes with the runtime and the release handler.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pc from "picocolors";
import type { BuildResult } from "../src/release/build-release.ts";
import { buildRelease } from "../src/relup/build-with-plans.ts";
import { readRelease } from "../src/release/read-release.ts";
import { planReleases } from "../src/relup/plan-releases.ts";
import { renderPlanText } from "../src/relup/render/render-text.ts";

const color = Boolean(process.stdout.isTTY) && !("NO_COLOR" in process.env);
const c = pc.createColors(color);
const out = await mkdtemp(path.join(os.tmpdir(), "relup-demo-"));
try {
  const built: BuildResult[] = [];
  for (const version of ["1.0.0", "1.1.0"]) {
    const started = performance.now();
    const result = await buildRelease({ dir: path.join("fixtures", "calculator", version), out });
    const ms = performance.now() - started;
    const loaded = await readRelease(result.tarball);
    await loaded.close();
    const modules = result.apps.flatMap((a) => a.modules).length;
    console.log(`${c.green("built")} ${c.bold(`calculator ${version}`)} in ${Math.round(ms)} ms: ${modules} modules, tarball verified (release.json sha256 ${loaded.identity.slice(0, 12)}…)`);
    built.push(result);
  }
  console.log(`\n${c.bold("$ relup generate calculator-1.0.0.tar.gz calculator-1.1.0.tar.gz")}\n`);
  const plan = await planReleases({ from: built[0]!.tarball, to: built[1]!.tarball });
  console.log(renderPlanText(plan, { color }));
  console.log(c.dim("Not yet here: starting 1.0.0 and applying this plan live (the runtime and the release handler come next)."));
} finally {
  await rm(out, { recursive: true, force: true });
}
