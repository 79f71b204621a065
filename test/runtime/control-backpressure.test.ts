/**
 * The control socket under a client that does not read (issue 13), on a real node:
 *   - 20,000 pipelined requests sent without reading the answers: the node stops reading that connection
 *     while its answers are not drained, so what it holds for it (requests read but not answered, answers
 *     not yet taken by the kernel) stays bounded; other connections, and `relup status`, are answered
 *     meanwhile; once the client reads, every request is answered, in order;
 *   - an idle connection (no request in flight, no bytes) is closed after the idle timeout; one whose
 *     request runs longer than that is not (the server alone, with a request that waits on a gate).
 */
import net from "node:net";
import path from "node:path";
import { writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { buildRelease } from "../../src/release/build-release.ts";
import { controlRequest, controlSocketPath } from "../../src/runtime/control-client.ts";
import { openControlServer } from "../../src/runtime/control-server.ts";
import { gate } from "../helpers/runtime.ts";
import { Launcher } from "../../src/runtime/launcher.ts";
import { prepareRoot } from "../../src/runtime/start-release.ts";
import { freePort } from "../../src/net-helpers.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
let launcher: Launcher | undefined;
let root: string;

afterEach(async () => {
  await launcher?.stop();
  launcher = undefined;
});

async function startNode(env: Record<string, string>): Promise<void> {
  const { tarball } = await buildRelease({ dir: "fixtures/calculator/1.0.0", out: await tempDir() });
  root = await tempDir();
  await prepareRoot(root, tarball);
  await writeFile(path.join(root, "config.json"), JSON.stringify({ calculator: { port: await freePort() } }));
  launcher = new Launcher({ root, minBackoffMs: 10, env: { ...process.env, ...env } });
  await launcher.start();
}

interface ConnectionStats {
  pendingRequests: number;
  unreadBytes: number;
  writableLength: number;
  reading: boolean;
}
const controlStats = async () => ((await controlRequest(root, { cmd: "metrics" })) as { control: { connections: ConnectionStats[] } }).control.connections;

const N = 20_000;
/** Ids padded to 150 characters: the requests (3 MB) and answers are far more than the kernel buffers hold. */
const idOf = (i: number) => String(i).padStart(150, "0");

describe("control socket backpressure and idle timeout", () => {
  it("stops reading a connection whose answers are not read, keeps answering others, and answers everything once read", async () => {
    await startNode({ RELUP_CONTROL_IDLE_MS: "600000" });
    const client = net.connect(controlSocketPath(root));
    await new Promise<void>((resolve, reject) => client.once("connect", resolve).once("error", reject));
    client.pause();
    for (let i = 0; i < N; i++) client.write(JSON.stringify({ id: idOf(i), cmd: "ping" }) + "\n");
    // Ask over other connections until the node holds no request of the pipelining connection ready to
    // run: either it stopped reading it, or (without backpressure) it has read and answered everything.
    let busiest: ConnectionStats | undefined;
    for (;;) {
      const stats = await controlStats();
      busiest = stats.reduce<ConnectionStats | undefined>((a, s) => (a && a.writableLength + a.unreadBytes >= s.writableLength + s.unreadBytes ? a : s), undefined);
      if (busiest && (!busiest.reading || busiest.pendingRequests === 0) && busiest.writableLength > 0) break;
    }
    expect(busiest.reading).toBe(false);
    // What the node holds for the connection: at most one request running, one chunk read, the answers
    // up to the socket's high-water mark plus one answer.
    expect(busiest.pendingRequests).toBeLessThanOrEqual(1);
    expect(busiest.unreadBytes).toBeLessThanOrEqual(1024 * 1024 + 65_536);
    expect(busiest.writableLength).toBeLessThanOrEqual(65_536 + 1024);
    // The client could not hand its requests over: the node is not reading them.
    expect(client.writableLength).toBeGreaterThan(0);
    // A normal status works meanwhile.
    const status = await relup(["status", "--root", root, "--json"], {}, 30_000);
    expect(status.code).toBe(0);
    // Reading now: every request is answered, in order.
    let text = "";
    let answered = 0;
    await new Promise<void>((resolve, reject) => {
      client.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
        let newline: number;
        while ((newline = text.indexOf("\n")) !== -1) {
          const answer = JSON.parse(text.slice(0, newline)) as { id: string; ok: boolean; result: unknown };
          text = text.slice(newline + 1);
          if (answer.id !== idOf(answered) || answer.result !== "pong") reject(new Error(`answer ${answered}: ${JSON.stringify(answer)}`));
          if (++answered === N) resolve();
        }
      });
      client.once("error", reject);
      client.resume();
    });
    expect(answered).toBe(N);
    client.destroy();
  }, 120_000);

  it("closes a connection that stays idle after its answer for the idle timeout", async () => {
    await startNode({ RELUP_CONTROL_IDLE_MS: "300" });
    const idle = net.connect(controlSocketPath(root));
    const closed = new Promise<string>((resolve) => {
      let text = "";
      idle.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      idle.once("close", () => resolve(text));
    });
    // One request answered, then silence: the node closes the connection.
    idle.write(JSON.stringify({ id: 1, cmd: "ping" }) + "\n");
    expect(await closed).toBe(JSON.stringify({ id: 1, ok: true, result: "pong" }) + "\n");
    // A connection that keeps asking stays open as long as it asks.
    expect(await controlRequest(root, { cmd: "ping" })).toBe("pong");
  }, 60_000);

  it("keeps a connection whose request runs longer than the idle timeout, and closes it once idle after the answer", async () => {
    const dir = await tempDir();
    const hung = gate<unknown>();
    const started = gate<void>();
    const server = await openControlServer(dir, () => (started.open(), hung.promise), { idleTimeoutMs: 100 });
    try {
      const socketPath = path.join(dir, "run", "control.sock");
      const busy = net.connect(socketPath);
      let text = "";
      busy.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      const busyClosed = new Promise<void>((resolve) => busy.once("close", () => resolve()));
      busy.write(JSON.stringify({ id: 1, cmd: "unpack", source: "/nowhere.tar.gz" }) + "\n");
      await started.promise;
      // A connection opened after the long request started, with nothing to do: its close by the idle
      // timeout means the busy one has been silent for longer than that.
      const quiet = net.connect(socketPath);
      await new Promise<void>((resolve) => quiet.once("close", () => resolve()));
      expect(busy.destroyed).toBe(false);
      expect(server.stats().filter((s) => s.pendingRequests === 1)).toHaveLength(1);
      hung.open("done");
      await busyClosed;
      expect(JSON.parse(text)).toEqual({ id: 1, ok: true, result: "done" });
    } finally {
      hung.open(undefined);
      await server.close();
    }
  });
});
