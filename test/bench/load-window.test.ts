/**
 * The bench's load window (bench/load-window.ts) against real HTTP servers on the loopback: failed
 * requests are counted once each, by kind. autocannon counts a timed-out request both as an error and
 * as a timeout; the window must not add the two.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { loadWindow } from "../../bench/load-window.ts";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

describe("loadWindow", () => {
  it("counts a request that times out once, as a timeout", async () => {
    const port = await serve(() => {}); // never answers
    const window = await loadWindow({ port, seconds: 1.5, connections: 2, timeout: 1 });
    expect(window.failed).toBeGreaterThan(0);
    expect(window.failures).toEqual({ "request timed out": window.failed });
    expect(window.requests).toBe(0);
  });

  it("counts non-2xx answers and reset connections by kind, and nothing when every answer is 2xx", async () => {
    const refusing = await serve((_req, res) => res.writeHead(503).end("no\n"));
    const refused = await loadWindow({ port: refusing, seconds: 0.5, connections: 2 });
    expect(refused.failed).toBeGreaterThan(0);
    expect(refused.failures).toEqual({ "non-2xx": refused.failed });

    const resetting = await serve((req) => req.socket.resetAndDestroy());
    const reset = await loadWindow({ port: resetting, seconds: 0.5, connections: 2 });
    expect(reset.failed).toBeGreaterThan(0);
    expect(reset.failures).toEqual({ ECONNRESET: reset.failed });

    const answering = await serve((_req, res) => res.writeHead(200).end("4\n"));
    const fine = await loadWindow({ port: answering, seconds: 0.5, connections: 2 });
    expect(fine.requests).toBeGreaterThan(0);
    expect(fine).toMatchObject({ failed: 0 });
    expect(fine.failures).toBeUndefined();
  });
});
