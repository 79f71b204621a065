/**
 * A request's keepalive lines stop when its client goes away, not only when the request settles: a
 * client that gave up on a request queued behind a hung install leaves no interval running for it.
 */
import diagnostics from "node:diagnostics_channel";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { openControlServer } from "../../src/runtime/control-server.ts";
import { gate } from "../helpers/runtime.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
afterEach(() => void vi.restoreAllMocks());

/** An interval period no other code in this test uses, to find the keepalive's timer. */
const EVERY = 37;

describe("control socket keepalive", () => {
  it("is cleared when the client disconnects while its request is still running", async () => {
    const root = await tempDir();
    const hung = gate<unknown>();
    const server = await openControlServer(root, () => hung.promise);
    const created: unknown[] = [];
    const cleared = new Set<unknown>();
    const realSet = globalThis.setInterval;
    const realClear = globalThis.clearInterval;
    vi.spyOn(globalThis, "setInterval").mockImplementation(((fn: () => void, ms?: number) => {
      const handle = realSet(fn, ms);
      if (ms === EVERY) created.push(handle);
      return handle;
    }) as typeof setInterval);
    vi.spyOn(globalThis, "clearInterval").mockImplementation(((handle?: NodeJS.Timeout) => {
      cleared.add(handle);
      realClear(handle);
    }) as typeof clearInterval);
    // The server's end of the connection, to wait for its close.
    const accepted = new Promise<net.Socket>((resolve) => {
      const onSocket = (message: unknown) => {
        diagnostics.unsubscribe("net.server.socket", onSocket);
        resolve((message as { socket: net.Socket }).socket);
      };
      diagnostics.subscribe("net.server.socket", onSocket);
    });
    try {
      const client = net.connect(path.join(root, "run", "control.sock"));
      client.write(JSON.stringify({ id: 1, cmd: "unpack", source: "/nowhere.tar.gz", keepalive: EVERY }) + "\n");
      const serverSide = await accepted;
      // The first keepalive line: the interval runs.
      await new Promise<void>((resolve) => client.once("data", () => resolve()));
      expect(created).toHaveLength(1);
      const closed = new Promise<void>((resolve) => serverSide.once("close", () => setImmediate(resolve)));
      client.destroy();
      await closed;
      expect(cleared.has(created[0])).toBe(true);
    } finally {
      hung.open(undefined);
      await server.close();
    }
  });
});
