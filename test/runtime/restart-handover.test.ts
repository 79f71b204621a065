/**
 * restart_new_emulator leaves one node serving. After the handover nothing of the target release is
 * installed in the old node: it does not commit the install (its old configChange is not called with the
 * new env), and it drains and stops whatever its install request ends with. The launcher logs the
 * replaced node's exit.
 */
import { cp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { Ready } from "../../src/runtime/launcher.ts";
import { getOnNewConnection } from "../../src/net-helpers.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

/** The npm-restart-listed fixture, with an env key that changes and a configChange that throws. */
async function throwingOldConfigChange(dir: string): Promise<{ from: string; to: string }> {
  for (const version of ["1.0.0", "1.1.0"]) {
    await cp(path.join("fixtures/npm-restart-listed", version), path.join(dir, version), { recursive: true });
    const config = path.join(dir, version, "relup.config.json");
    const release = JSON.parse(await readFile(config, "utf8"));
    release.applications[0].env.greeting = version;
    release.applications[0].version = version;
    await writeFile(config, JSON.stringify(release, null, 2));
    // The same module in both: a node booted on 1.1.0 never calls it.
    const app = path.join(dir, version, "apps/labels/app.ts");
    await writeFile(app, (await readFile(app, "utf8")) + `\nexport function configChange(): void {\n  throw new Error("configChange ran in a node that booted with its env");\n}\n`);
  }
  return { from: path.join(dir, "1.0.0"), to: path.join(dir, "1.1.0") };
}

describe("restart_new_emulator hands over to one node", () => {
  it("the old node neither commits the install nor keeps serving: apply succeeds, the old node stops", async () => {
    const dir = await tempDir();
    const n = await liveNode({ ...(await throwingOldConfigChange(dir)), app: "labels", dir });
    const takeover = new Promise<Ready>((resolve) => n.launcher.once("ready", resolve));
    const replaced = new Promise<{ pid: number }>((resolve) => n.launcher.once("replaced-exit", resolve));
    const result = await applyRelease({ root: n.root, release: n.v2, allowRestart: true, confirm: async () => true });
    expect(result).toMatchObject({ from: "1.0.0", to: "1.1.0" });
    expect((await takeover).version).toBe("1.1.0");
    expect((await replaced).pid).toBe(n.ready.pid);
    expect(await controlRequest(n.root, { cmd: "status" })).toMatchObject({ pid: (await takeover).pid, release: { version: "1.1.0" } });
    expect(await getOnNewConnection(n.port, "/label/abc")).toBe("abc");
    const log = (await readFile(path.join(n.root, "log", "node.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l) as { event?: string; pid?: number });
    expect(log.some((l) => l.event === "node exit")).toBe(true);
  }, 60_000);
});
