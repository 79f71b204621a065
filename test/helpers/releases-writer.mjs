// A process that rewrites ROOT/releases/RELEASES as fast as it can, for the atomic-write test. Plain
// JavaScript on relup's compiled sources (RELUP_COMPILED_SOURCES, set by the test setup), so that each of
// the test's many starts costs no TypeScript compile.
import path from "node:path";
import { pathToFileURL } from "node:url";

const compiled = process.env.RELUP_COMPILED_SOURCES;
if (!compiled) throw new Error("releases-writer.mjs: RELUP_COMPILED_SOURCES is not set; run it from the test suite (test/setup/global-setup.ts sets it)");
const { writeReleasesFile } = await import(pathToFileURL(path.join(compiled, "runtime", "releases-file.js")).href);

const root = process.argv[2];
const identity = "a".repeat(64);
await writeReleasesFile(root, { format: 1, name: "x", releases: [{ version: "1.0.0", status: "permanent", identity }] });
process.send?.("started");
for (let i = 0; ; i++) {
  const versions = Array.from({ length: 1 + (i % 50) }, (_, k) => `1.${k}.0`);
  await writeReleasesFile(root, { format: 1, name: "x", releases: versions.map((version, k) => ({ version, status: k === i % versions.length ? "permanent" : "old", identity })) });
}
