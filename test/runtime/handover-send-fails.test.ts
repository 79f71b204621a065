/**
 * A restart_new_emulator that cannot reach the launcher (the node's IPC channel has closed) fails its
 * step instead of ending the node or leaving it without its control socket: the install rolls back,
 * and the same node answers on its control socket and serves on.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import { getOnNewConnection } from "../../src/net-helpers.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { copyRestartPair } from "../helpers/restart-pair.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

describe("a handover whose messages cannot be sent", () => {
  it("fails the install, which rolls back; the node keeps its pid, its control socket and its port", async () => {
    const dir = await tempDir();
    await copyRestartPair(dir);
    // The running node closes its channel to the launcher on SIGUSR2.
    const app = path.join(dir, "1.0.0/apps/labels/app.ts");
    await writeFile(app, (await readFile(app, "utf8")).replace("export function start(env: { port: number }) {", `export function start(env: { port: number }) {\n  process.once("SIGUSR2", () => process.disconnect());`));
    const n = await liveNode({ from: path.join(dir, "1.0.0"), to: path.join(dir, "1.1.0"), app: "labels", dir });
    process.kill(n.ready.pid, "SIGUSR2");
    const error = (await applyRelease({ root: n.root, release: n.v2, allowRestart: true, confirm: async () => true }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain("channel to it is closed");
    expect(await controlRequest(n.root, { cmd: "status" })).toMatchObject({ pid: n.ready.pid, release: { version: "1.0.0" } });
    expect(await getOnNewConnection(n.port, "/label/abc")).toBe("abc");
  }, 60_000);
});
