/**
 * The launcher survives a node that dies while it hands over (restart_new_emulator): once the old node
 * is gone, the launcher must not write to its closed IPC channel (Node raises ERR_IPC_CHANNEL_CLOSED as
 * an uncaught error, which would end the launcher), and exactly one node is tracked. The install the old
 * node was running is lost with it, so the successor is killed and the node comes back on its permanent
 * release, as after any death.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { isAlive } from "../../src/runtime/process-exit.ts";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { Ready } from "../../src/runtime/launcher.ts";
import { getOnNewConnection } from "../../src/net-helpers.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { copyRestartPair } from "../helpers/restart-pair.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

describe("a node that dies during its handover", () => {
  it("the launcher lives on, kills the successor and restarts the node on its permanent release", async () => {
    const dir = await tempDir();
    const pidFile = path.join(dir, "old.pid");
    const successorFile = path.join(dir, "successor.pid");
    await copyRestartPair(dir);
    // The successor kills the node it replaces while it boots, and is ready only once that node is reaped
    // (kill(pid, 0) fails from then on): the launcher has seen the exit before the successor is ready.
    const app = path.join(dir, "1.1.0/apps/labels/app.ts");
    const kill = [
      `  const old = Number(readFileSync(${JSON.stringify(pidFile)}, "utf8"));`,
      `  writeFileSync(${JSON.stringify(successorFile)}, String(process.pid));`,
      `  process.kill(old, "SIGKILL");`,
      `  for (;;) { try { process.kill(old, 0); } catch { break; } }`,
    ].join("\n");
    await writeFile(app, `import { readFileSync, writeFileSync } from "node:fs";\n` + (await readFile(app, "utf8")).replace("export function start(env: { port: number }) {", `export function start(env: { port: number }) {\n${kill}`));
    const n = await liveNode({ from: path.join(dir, "1.0.0"), to: path.join(dir, "1.1.0"), app: "labels", dir });
    await writeFile(pidFile, String(n.ready.pid));
    const restarted = new Promise<Ready>((resolve) => n.launcher.on("ready", (ready: Ready) => ready.version === "1.0.0" && resolve(ready)));
    const applied = applyRelease({ root: n.root, release: n.v2, allowRestart: true, confirm: async () => true }).then(
      () => undefined,
      (error: unknown) => error,
    );
    const back = await restarted;
    expect(await applied).toBeInstanceOf(Error);
    const successor = Number(await readFile(successorFile, "utf8"));
    expect(back.pid).not.toBe(n.ready.pid);
    expect(back.pid).not.toBe(successor);
    expect(n.launcher.nodePid).toBe(back.pid);
    expect(isAlive(successor)).toBe(false);
    expect(await controlRequest(n.root, { cmd: "status" })).toMatchObject({ pid: back.pid, release: { version: "1.0.0" } });
    expect(await getOnNewConnection(n.port, "/label/abc")).toBe("abc");
    const log = (await readFile(path.join(n.root, "log", "launcher.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log).toContainEqual(expect.objectContaining({ event: "node exited during a handover", pid: n.ready.pid, successor }));
  }, 60_000);
});
