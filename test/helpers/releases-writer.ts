/** A process that rewrites ROOT/releases/RELEASES as fast as it can, for the atomic-write test. */
import { writeReleasesFile } from "../../src/runtime/releases-file.ts";

const root = process.argv[2]!;
const identity = "a".repeat(64);
await writeReleasesFile(root, { format: 1, name: "x", releases: [{ version: "1.0.0", status: "permanent", identity }] });
process.send?.("started");
for (let i = 0; ; i++) {
  const versions = Array.from({ length: 1 + (i % 50) }, (_, k) => `1.${k}.0`);
  await writeReleasesFile(root, { format: 1, name: "x", releases: versions.map((version, k) => ({ version, status: k === i % versions.length ? "permanent" : "old", identity })) });
}
