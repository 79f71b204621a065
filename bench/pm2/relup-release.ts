/**
 * The relup side of the pm2 comparison: one release with the calculator fixture's application (1.0.0 or
 * 1.1.0) and the counter fixture's (1.0.0) side by side, so that one node serves what the pm2 app serves
 * (bench/pm2/app/server.mjs): `/calculate/:a/:b`, and `/count/:key`, `/peek/:key` with the counts in the
 * memory of the counter's server process. Release 1.1.0 changes the calculator only, as the pm2 app's
 * 1.1.0 does. Each application listens on its own port (config.json: `calculator.port`, `counter.port`).
 */
import { cp, writeFile } from "node:fs/promises";
import path from "node:path";
import { buildRelease } from "../../src/relup/build-with-plans.ts";

const fixtures = path.join(import.meta.dirname, "..", "..", "fixtures");

/** Writes the release's sources under `work` and builds it into `out`; returns the tarball. */
export async function buildSideBySideRelease(work: string, out: string, version: "1.0.0" | "1.1.0"): Promise<string> {
  const dir = path.join(work, `side-by-side-${version}`);
  await cp(path.join(fixtures, "calculator", version, "apps", "calculator"), path.join(dir, "apps", "calculator"), { recursive: true });
  await cp(path.join(fixtures, "counter", "1.0.0", "apps", "counter"), path.join(dir, "apps", "counter"), { recursive: true });
  const config = {
    format: 1,
    name: "side-by-side",
    version,
    node: ">=20",
    applications: [
      { name: "calculator", version, description: "HTTP calculator: GET /calculate/:a/:b", start: "app", env: { port: 4000 } },
      { name: "counter", version: "1.0.0", description: "HTTP counter: GET /count/:key, GET /peek/:key", start: "app", env: { port: 4001 } },
    ],
  };
  await writeFile(path.join(dir, "relup.config.json"), JSON.stringify(config, null, 2));
  return (await buildRelease({ dir, out })).tarball;
}
