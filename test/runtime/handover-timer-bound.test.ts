/**
 * A boot timeout at the longest timer Node keeps (2^31−1 ms, which `relup start --boot-timeout` accepts)
 * does not overflow the node's own wait for the launcher's answer during a handover: above that limit
 * Node fires a timer after 1 ms, and the takeover would fail at once with "the launcher did not answer".
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_TIMEOUT_MS } from "../../src/appup/instruction.ts";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { Ready } from "../../src/runtime/launcher.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { copyRestartPair } from "../helpers/restart-pair.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

describe("a handover with the longest boot timeout", () => {
  it("takes over", async () => {
    const dir = await tempDir();
    await copyRestartPair(dir);
    const n = await liveNode({ from: path.join(dir, "1.0.0"), to: path.join(dir, "1.1.0"), app: "labels", dir, launcher: { bootTimeoutMs: MAX_TIMEOUT_MS } });
    const takeover = new Promise<Ready>((resolve) => n.launcher.once("ready", resolve));
    expect(await applyRelease({ root: n.root, release: n.v2, allowRestart: true, confirm: async () => true })).toMatchObject({ to: "1.1.0" });
    expect(await controlRequest(n.root, { cmd: "status" })).toMatchObject({ pid: (await takeover).pid, release: { version: "1.1.0" } });
  }, 60_000);
});
