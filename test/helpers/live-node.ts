/**
 * A real node for upgrade tests: both versions of a release project built, the first unpacked as the
 * permanent release of a fresh root (its HTTP port, if any, set through config.json), and a launcher
 * running its node in a child process. Launchers are stopped after each test.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach } from "vitest";
import { buildRelease } from "../../src/relup/build-with-plans.ts";
import { freePort } from "../../src/net-helpers.ts";
import { Launcher, type LauncherOptions } from "../../src/runtime/launcher.ts";
import { prepareRoot } from "../../src/runtime/start-release.ts";

export function useLiveNodes(tempDir: () => Promise<string>) {
  const launchers: Launcher[] = [];
  afterEach(async () => {
    for (const l of launchers.splice(0)) await l.stop();
  });
  /** `config`: more of the app's keys for the root's config.json (operator overrides), beside its port */
  return async (projects: { from: string; to: string; app?: string; dir?: string; config?: Record<string, unknown>; launcher?: Omit<LauncherOptions, "root"> }) => {
    const dir = projects.dir ?? (await tempDir());
    const out = path.join(dir, "build");
    const v1 = await buildRelease({ dir: projects.from, out });
    const v2 = await buildRelease({ dir: projects.to, out });
    const root = path.join(dir, "root");
    await prepareRoot(root, v1.tarball);
    const port = await freePort();
    if (projects.app) await writeFile(path.join(root, "config.json"), JSON.stringify({ [projects.app]: { port, ...projects.config } }));
    const launcher = new Launcher({ root, minBackoffMs: 10, ...projects.launcher });
    launchers.push(launcher);
    const ready = await launcher.start();
    return { root, port, launcher, ready, v1: v1.tarball, v2: v2.tarball, out };
  };
}
