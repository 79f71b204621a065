/**
 * No boot waits forever: a node that is not ready within the launcher's boot timeout (an application
 * start stuck in a synchronous loop answers nothing, not even the watchdog) is killed and the failure is
 * logged and reported: `relup start` exits 1 saying why and how to fix it; a restart_new_emulator
 * successor that does not come up is killed, the takeover is aborted and the old node keeps serving.
 */
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import { Launcher, type Ready } from "../../src/runtime/launcher.ts";
import { prepareRoot } from "../../src/runtime/start-release.ts";
import { getOnNewConnection } from "../../src/net-helpers.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { oneAppConfig, writeProject } from "../helpers/project.ts";
import { relup } from "../helpers/relup-cli.ts";
import { copyRestartPair } from "../helpers/restart-pair.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

const events = async (root: string) => (await readFile(path.join(root, "log", "launcher.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

describe("the launcher's boot timeout", () => {
  it("relup start --detach: a node stuck in its boot is killed after --boot-timeout; exit 1 with the fix, logged, nothing left running", async () => {
    const dir = await tempDir();
    await writeProject(path.join(dir, "project"), {
      config: oneAppConfig({ start: "app" }),
      files: { "apps/demo/app.ts": `export const behaviour = "application";\nexport function start(): void {\n  for (;;) {}\n}\n` },
    });
    expect((await relup(["build", path.join(dir, "project"), "--out", path.join(dir, "build")])).code).toBe(0);
    const root = path.join(dir, "root");
    const result = await relup(["start", path.join(dir, "build", "demo-1.0.0.tar.gz"), "--root", root, "--detach", "--boot-timeout", "1500"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the node was not ready within 1500 ms");
    expect(result.stderr).toContain("--boot-timeout");
    expect(result.stderr).not.toContain("internal error");
    const logged = await events(root);
    const timedOut = logged.find((e) => e.event === "node boot timed out");
    expect(timedOut).toMatchObject({ limitMs: 1500 });
    expect(logged).toContainEqual(expect.objectContaining({ event: "node exited", pid: timedOut!.pid, signal: "SIGKILL" }));
    expect(existsSync(path.join(root, "run", "launcher.pid"))).toBe(false);
    // The release this start installed is not kept: the root is empty again, and says so.
    expect(result.stderr).not.toContain("installed demo 1.0.0");
    expect(result.stderr).toContain("demo 1.0.0 was not kept");
    expect(existsSync(path.join(root, "RELEASES"))).toBe(false);
    expect(existsSync(path.join(root, "releases", "1.0.0"))).toBe(false);
    const again = await relup(["start", "--root", root, "--detach"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("holds no release yet");
  });

  it("a node restarted after a kill that is stuck in its boot is killed too, and restarted until it boots", async () => {
    const dir = await tempDir();
    const hang = path.join(dir, "hang");
    await writeProject(path.join(dir, "project"), {
      config: oneAppConfig({ start: "app" }),
      files: { "apps/demo/app.ts": `import { existsSync } from "node:fs";\nexport const behaviour = "application";\nexport function start(): void {\n  while (existsSync(${JSON.stringify(hang)})) {}\n}\n` },
    });
    expect((await relup(["build", path.join(dir, "project"), "--out", path.join(dir, "build")])).code).toBe(0);
    const root = path.join(dir, "root");
    await prepareRoot(root, path.join(dir, "build", "demo-1.0.0.tar.gz"));
    // The limit is every boot's, the healthy ones' too: generous, so that a loaded machine's slow boot is
    // never taken for the stuck one (which costs the test this long).
    const launcher = new Launcher({ root, minBackoffMs: 10, bootTimeoutMs: 10_000 });
    try {
      const first = await launcher.start();
      await writeFile(hang, "");
      const timedOut = new Promise<{ pid: number; limitMs: number }>((resolve) => launcher.once("boot-timeout", resolve));
      process.kill(first.pid, "SIGKILL");
      const stuck = await timedOut;
      expect(stuck.pid).not.toBe(first.pid);
      const booted = new Promise<Ready>((resolve) => launcher.once("ready", resolve));
      await rm(hang);
      expect((await booted).pid).not.toBe(stuck.pid);
      expect(await events(root)).toContainEqual(expect.objectContaining({ event: "node boot timed out", pid: stuck.pid, action: "killed; restarting on the permanent release" }));
    } finally {
      await rm(hang, { force: true });
      await launcher.stop();
    }
  }, 60_000);

  it("relup start refuses a boot timeout that is not whole milliseconds (exit 2)", async () => {
    const r = await relup(["start", "--root", await tempDir(), "--boot-timeout", "-5"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--boot-timeout -5 is not a timeout");
  });

  it("a restart_new_emulator successor that is not ready in time is killed; the takeover is aborted and the old node serves on", async () => {
    const dir = await tempDir();
    await copyRestartPair(dir);
    const app = path.join(dir, "1.1.0/apps/labels/app.ts");
    await writeFile(app, (await readFile(app, "utf8")).replace("export function start(env: { port: number }) {", "export function start(env: { port: number }) {\n  for (;;) {}"));
    // generous for the first node's healthy boot, as above
    const n = await liveNode({ from: path.join(dir, "1.0.0"), to: path.join(dir, "1.1.0"), app: "labels", dir, launcher: { bootTimeoutMs: 10_000 } });
    const error = (await applyRelease({ root: n.root, release: n.v2, allowRestart: true, confirm: async () => true }).catch((e: unknown) => e)) as Error & { exitCode?: number };
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain("the new node did not take over: the new node was not ready within 10000 ms");
    expect(await controlRequest(n.root, { cmd: "status" })).toMatchObject({ pid: n.ready.pid, release: { version: "1.0.0" } });
    expect(await getOnNewConnection(n.port, "/label/abc")).toBe("abc");
    expect(await events(n.root)).toContainEqual(expect.objectContaining({ event: "node boot timed out", limitMs: 10_000 }));
  }, 60_000);
});
