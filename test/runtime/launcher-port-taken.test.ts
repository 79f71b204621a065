/**
 * A node restarted by its launcher that cannot boot because its port was taken meanwhile: the launcher
 * keeps retrying with its backoff, its log says why before each retry, and the node comes back once the
 * port is free.
 */
import { readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildRelease } from "../../src/release/build-release.ts";
import { Launcher, type Ready } from "../../src/runtime/launcher.ts";
import { prepareRoot } from "../../src/runtime/start-release.ts";
import { freePort, get } from "../../src/net-helpers.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();

describe("launcher restarts", () => {
  it("a restart that finds the port taken is logged with the port and the application, and retried until it is free", async () => {
    const tarball = (await buildRelease({ dir: "fixtures/calculator/1.0.0", out: await tempDir() })).tarball;
    const root = await tempDir();
    await prepareRoot(root, tarball);
    const port = await freePort();
    await writeFile(path.join(root, "config.json"), JSON.stringify({ calculator: { port } }));
    const launcher = new Launcher({ root, minBackoffMs: 100, maxBackoffMs: 200 });
    const taken = net.createServer();
    try {
      const ready = await launcher.start();
      expect(await get(port, "/calculate/2/2")).toBe("4");

      // The node dies; another process takes its port before the restart.
      const exited = new Promise((resolve) => launcher.once("exit", resolve));
      process.kill(ready.pid, "SIGKILL");
      await exited;
      await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
      // The restart fails at boot, so a second restart follows.
      let restarts = 0;
      await new Promise<void>((resolve) => launcher.on("restart", () => ++restarts === 2 && resolve()));

      const back = new Promise<Ready>((resolve) => launcher.once("ready", resolve));
      await new Promise((resolve) => taken.close(resolve));
      const again = await back;
      expect(again.pid).not.toBe(ready.pid);
      expect(await get(port, "/calculate/2/2")).toBe("4");
    } finally {
      taken.close();
      await launcher.stop();
    }
    const events = (await readFile(path.join(root, "log", "launcher.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events).toContainEqual(expect.objectContaining({ event: "node failed to boot", code: "EADDRINUSE", port, application: "calculator", error: expect.stringContaining("already in use") }));
  });
});
