/**
 * The launcher and a real node child process: boot from a built tarball into an empty root, the
 * control socket's modes, a SIGKILLed node restarted by its launcher, fuzzed control requests, stop.
 */
import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRelease } from "../../src/release/build-release.ts";
import { controlRequest, controlSocketPath, rawRequest } from "../../src/runtime/control-client.ts";
import { ControlAnswer } from "../../src/runtime/control-protocol.ts";
import { Launcher, type Ready } from "../../src/runtime/launcher.ts";
import { readReleasesFile } from "../../src/runtime/releases-file.ts";
import { isAlive } from "../../src/runtime/process-exit.ts";
import { prepareRoot } from "../../src/runtime/start-release.ts";
import { freePort, get } from "../../src/net-helpers.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
let tarball: string;
let buildDir: string;

beforeAll(async () => {
  const { mkdtemp } = await import("node:fs/promises");
  const os = await import("node:os");
  buildDir = await mkdtemp(path.join(os.tmpdir(), "relup-launcher-build-"));
  tarball = (await buildRelease({ dir: "fixtures/calculator/1.0.0", out: buildDir })).tarball;
});
afterAll(async () => {
  const { rm } = await import("node:fs/promises");
  await rm(buildDir, { recursive: true, force: true });
});

async function started(): Promise<{ root: string; port: number; launcher: Launcher; ready: Ready }> {
  const root = await tempDir();
  await prepareRoot(root, tarball);
  const port = await freePort();
  await writeFile(path.join(root, "config.json"), JSON.stringify({ calculator: { port } }));
  const launcher = new Launcher({ root, minBackoffMs: 10 });
  const ready = await launcher.start();
  return { root, port, launcher, ready };
}

describe("launcher and node", () => {
  it("installs the first release as permanent, boots it, and serves; control socket 0600 in a 0700 directory", async () => {
    const { root, port, launcher, ready } = await started();
    try {
      expect(await readReleasesFile(root)).toMatchObject({ name: "calculator", releases: [{ version: "1.0.0", status: "permanent" }] });
      expect(await get(port, "/calculate/2/2")).toBe("4");
      expect((await stat(path.join(root, "run"))).mode & 0o777).toBe(0o700);
      expect((await stat(controlSocketPath(root))).mode & 0o777).toBe(0o600);
      expect(await controlRequest(root, { cmd: "status" })).toMatchObject({ pid: ready.pid, release: { name: "calculator", version: "1.0.0" } });
    } finally {
      await launcher.stop();
    }
    expect(isAlive(ready.pid)).toBe(false);
  });

  it("fails the start, with the node's own words, when the node ends before it is ready (no endless restarts)", async () => {
    const root = await tempDir();
    await prepareRoot(root, tarball);
    // Node refuses this V8 flag in NODE_OPTIONS and exits at once, before any relup code runs.
    const launcher = new Launcher({ root, minBackoffMs: 10, env: { ...process.env, NODE_OPTIONS: "--trace-gc" } });
    await expect(launcher.start()).rejects.toThrow(/^the node failed to boot: the node exited \(code 9\) before it was ready: .*--trace-gc is not allowed in NODE_OPTIONS/);
    await launcher.stop();
  });

  it("restarts a node killed with SIGKILL, on the permanent release", async () => {
    const { port, launcher, ready } = await started();
    try {
      const again = new Promise<Ready>((resolve) => launcher.once("ready", resolve));
      process.kill(ready.pid, "SIGKILL");
      const next = await again;
      expect(next.pid).not.toBe(ready.pid);
      expect(next.version).toBe("1.0.0");
      expect(await get(port, "/calculate/2/2")).toBe("4");
    } finally {
      await launcher.stop();
    }
  });

  it("answers 1,000 fuzzed control requests with errors and keeps serving", async () => {
    const { root, port, launcher } = await started();
    try {
      const socket = controlSocketPath(root);
      const requests = fc.sample(
        fc.oneof(
          fc.string({ maxLength: 200 }).map((s) => s.replace(/\n/g, " ")),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.record({ cmd: fc.constantFrom("status", "stop", "eval", "ping", "install", ""), extra: fc.jsonValue() }).map((v) => JSON.stringify(v)),
          fc.record({ id: fc.oneof(fc.integer(), fc.string()), cmd: fc.string() }).map((v) => JSON.stringify(v)),
        ),
        { numRuns: 1000, seed: 42 },
      );
      let errors = 0;
      for (const line of requests) {
        if (line.trim() === "") continue;
        const response = JSON.parse(await rawRequest(socket, line, 5_000));
        // Every answer is one of the protocol's: a refusal carries an issue the client can parse.
        expect(ControlAnswer.safeParse(response).success, line).toBe(true);
        if (!response.ok) errors++;
        else expect(JSON.parse(line).cmd).not.toBe("stop");
      }
      expect(errors).toBeGreaterThan(900);
      expect(JSON.parse(await rawRequest(socket, JSON.stringify({ cmd: "ping" })))).toEqual({ ok: true, result: "pong" });
      expect(await get(port, "/calculate/2/2")).toBe("4");
    } finally {
      await launcher.stop();
    }
  });
});

describe("relup start --detach, status, processes, stop (the CLI)", () => {
  it("starts detached, reports its pid and status, lists processes, and stops node and launcher", async () => {
    const root = await tempDir();
    const port = await freePort();
    const { mkdir } = await import("node:fs/promises");
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, "config.json"), JSON.stringify({ calculator: { port } }));
    const start = await relup(["start", tarball, "--root", root, "--detach"]);
    expect(start.code).toBe(0);
    const pid = Number(start.stdout.trim());
    expect(isAlive(pid)).toBe(true);
    try {
      expect(await get(port, "/calculate/2/2")).toBe("4");
      const status = await relup(["status", "--root", root, "--json"]);
      expect(JSON.parse(status.stdout)).toMatchObject({ pid, release: { version: "1.0.0" }, applications: [{ name: "calculator", status: "running" }] });
      const processes = await relup(["processes", "--root", root]);
      expect(processes.stdout).toMatch(/calculator\/http_server\s+server\s+running/);
      expect((await relup(["start", tarball, "--root", root, "--detach"])).code).toBe(1);
    } finally {
      const stop = await relup(["stop", "--root", root]);
      expect(stop).toMatchObject({ code: 0, stdout: `stopped calculator 1.0.0 (node pid ${pid})\n` });
    }
    expect(isAlive(pid)).toBe(false);
    expect((await relup(["status", "--root", root])).code).toBe(1);
  });
});
