/**
 * What survives hard events: an upgrade that needs a new node (restart_new_emulator) keeps the
 * listening socket, so clients never see a refused connection; a node SIGKILLed at any step of an
 * install comes back, through its launcher, on a consistent permanent release; RELEASES is never torn.
 */
import { fork } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { Progress } from "../../src/runtime/executor.ts";
import type { Ready } from "../../src/runtime/launcher.ts";
import { readReleasesFile } from "../../src/runtime/releases-file.ts";
import { waitForExit } from "../../src/runtime/process-exit.ts";
import { get, getOnNewConnection } from "../../src/net-helpers.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const node = (fixture: string, from: string, to: string, app: string) => liveNode({ from: path.join("fixtures", fixture, from), to: path.join("fixtures", fixture, to), app });

describe("restart_new_emulator", () => {
  it("an npm dependency change the project lists under npm.restart restarts the node on the new release with the listening socket handed over: no failed request", async () => {
    const n = await node("npm-restart-listed", "1.0.0", "1.1.0", "labels");
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const client = (async () => {
      // A bounded loop of requests on the loopback, for as long as the upgrade takes.
      for (let i = 0; i < 100_000 && !stop; i++) {
        try {
          if ((await getOnNewConnection(n.port, "/label/abc")) === "abc") ok++;
        } catch (error) {
          failures.push(String((error as Error).cause ?? error));
        }
      }
    })();
    const takeover = new Promise<Ready>((resolve) => n.launcher.once("ready", resolve));
    await applyRelease({ root: n.root, release: n.v2, allowRestart: true, confirm: async () => true });
    const next = await takeover;
    await getOnNewConnection(n.port, "/label/abc");
    stop = true;
    await client;
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    expect(next.pid).not.toBe(n.ready.pid);
    expect(await controlRequest(n.root, { cmd: "status" })).toMatchObject({ pid: next.pid, release: { version: "1.1.0" } });
    expect(await controlRequest(n.root, { cmd: "releases" })).toEqual([
      { name: "npm-restart-listed", version: "1.0.0", status: "permanent" },
      { name: "npm-restart-listed", version: "1.1.0", status: "current" },
    ]);
    const back = new Promise<Ready>((resolve) => n.launcher.once("ready", resolve));
    await controlRequest(n.root, { cmd: "rollback" });
    expect((await back).version).toBe("1.0.0");
    expect(await getOnNewConnection(n.port, "/label/abc")).toBe("abc");
    // Each node that handed over stops once drained: none is left running.
    expect(await waitForExit(n.ready.pid, 10_000)).toBe(true);
    expect(await waitForExit(next.pid, 10_000)).toBe(true);
  });
});

describe("SIGKILL during an install", () => {
  it.each([0, 1, 2, 3, 4, 5])("killed at step %i of the counter upgrade: the launcher boots the permanent release, consistent", async (step) => {
    const n = await node("counter", "1.0.0", "2.0.0", "counter");
    await get(n.port, "/count/a");
    const restarted = new Promise<Ready>((resolve) => n.launcher.once("ready", resolve));
    const progress = (event: Progress) => {
      if (event.phase === "step" && event.index === step) process.kill(n.ready.pid, "SIGKILL");
    };
    await applyRelease({ root: n.root, release: n.v2, confirm: async () => true, progress }).catch(() => undefined);
    const again = await restarted;
    expect(again.version).toBe("1.0.0");
    expect((await readReleasesFile(n.root))?.releases.find((r) => r.status === "permanent")?.version).toBe("1.0.0");
    expect(await get(n.port, "/peek/a")).toBe("0");
    expect(await get(n.port, "/count/a")).toBe("1");
  });

  it("killed while making a release permanent: it boots one of the two, and RELEASES agrees", async () => {
    const n = await node("counter", "1.0.0", "2.0.0", "counter");
    await applyRelease({ root: n.root, release: n.v2, confirm: async () => true });
    const restarted = new Promise<Ready>((resolve) => n.launcher.once("ready", resolve));
    const permanent = controlRequest(n.root, { cmd: "permanent", version: "2.0.0" }).catch(() => undefined);
    process.kill(n.ready.pid, "SIGKILL");
    await permanent;
    const again = await restarted;
    const releases = await readReleasesFile(n.root);
    expect(releases?.releases.find((r) => r.status === "permanent")?.version).toBe(again.version);
  });
});

describe("RELEASES is written atomically", () => {
  it("a writer SIGKILLed at random moments never leaves a torn file", async () => {
    const root = await tempDir();
    const entry = path.join(import.meta.dirname, "..", "helpers", "releases-writer.mjs");
    for (let round = 0; round < 10; round++) {
      const child = fork(entry, [root], { execArgv: [], stdio: "ignore" });
      await new Promise<void>((resolve) => child.once("message", () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 5 + (round % 7) * 3));
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      const file = await readReleasesFile(root);
      expect(file?.releases.length).toBeGreaterThanOrEqual(1);
      expect(file?.releases.filter((r) => r.status === "permanent")).toHaveLength(1);
    }
  });
});
