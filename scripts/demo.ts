/**
 * `npm run demo`: the seed story, as far as relup goes today. Builds calculator 1.0.0 and 1.1.0 from
 * fixtures/, verifies both tarballs with the safe reader, and shows what differs between them.
 * Applying the upgrade to a running node comes with the runtime and the release handler.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pc from "picocolors";
import type { ModuleMeta } from "../src/release/app-file.ts";
import { buildRelease } from "../src/release/build-release.ts";
import { readRelease } from "../src/release/read-release.ts";

const c = pc.createColors(Boolean(process.stdout.isTTY) && !("NO_COLOR" in process.env));
const out = await mkdtemp(path.join(os.tmpdir(), "relup-demo-"));
try {
  const built = [];
  for (const version of ["1.0.0", "1.1.0"]) {
    const started = performance.now();
    const result = await buildRelease({ dir: path.join("fixtures", "calculator", version), out });
    const ms = performance.now() - started;
    const loaded = await readRelease(result.tarball);
    await loaded.close();
    const modules = result.apps.flatMap((a) => a.modules);
    console.log(`${c.green("built")} ${c.bold(`calculator ${version}`)} in ${Math.round(ms)} ms: ${modules.length} modules, tarball verified (release.json sha256 ${loaded.releaseFileSha256.slice(0, 12)}…)`);
    built.push(result);
  }
  const [v1, v2] = built as [(typeof built)[0], (typeof built)[0]];
  const before = new Map<string, ModuleMeta>(v1.apps.flatMap((a) => a.modules.map((m) => [`${a.name}/${m.name}`, m] as const)));
  const changed: string[] = [];
  console.log(`\n${c.bold("What changed from 1.0.0 to 1.1.0")} (module by module, by sha256):`);
  for (const app of v2.apps) {
    for (const m of app.modules) {
      const ref = `${app.name}/${m.name}`;
      const old = before.get(ref);
      if (old?.sha256 !== m.sha256) changed.push(`${ref}${m.behaviour ? ` (${m.behaviour})` : " (plain module)"}`);
      const what = !old ? c.green("added") : old.sha256 !== m.sha256 ? c.yellow("changed") : c.dim("unchanged");
      console.log(`  ${ref.padEnd(24)} ${what}${m.behaviour ? c.dim(` (${m.behaviour})`) : ""}`);
    }
  }
  console.log(
    `\n${changed.length} module${changed.length === 1 ? "" : "s"} to upgrade: ${changed.join(", ")}.\n` +
      `Not yet here: starting 1.0.0, planning the upgrade and applying it live (the runtime and release handler are still to come).`,
  );
} finally {
  await rm(out, { recursive: true, force: true });
}
