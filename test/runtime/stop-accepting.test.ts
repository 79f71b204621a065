/**
 * After a handover the replaced node stops accepting on its listening sockets while its open connections
 * finish, and the code that owns a server can still close it as it always does (terminate).
 */
import http from "node:http";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { stopAccepting } from "../../src/runtime/listen-registry.ts";

const listen = (server: net.Server) => new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
const connect = (port: number) => new Promise<net.Socket>((resolve, reject) => {
  const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
  socket.once("error", reject);
});

describe("stopAccepting", () => {
  it("refuses new connections, lets an open one finish its request, resolves once it closes, and a later close(cb) of the owner succeeds", async () => {
    const server = http.createServer((_req, res) => res.end("ok"));
    const port = await listen(server);
    const open = await connect(port);
    const stopped = stopAccepting(server);
    await expect(connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const answer = new Promise<string>((resolve) => open.on("data", (d: Buffer) => resolve(d.toString())));
    open.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(await answer).toContain("ok");
    await stopped;
    const closedByOwner = await new Promise<Error | undefined>((resolve) => server.close((error) => resolve(error)));
    expect(closedByOwner).toBeUndefined();
  });

  it("a close(cb) of the owner while connections are still open gets its callback once they close", async () => {
    const server = net.createServer(() => undefined);
    const port = await listen(server);
    const open = await connect(port);
    const stopped = stopAccepting(server);
    let called = false;
    const closed = new Promise<void>((resolve) => server.close(() => ((called = true), resolve())));
    await new Promise((resolve) => setImmediate(resolve));
    expect(called).toBe(false);
    open.destroy();
    await closed;
    await stopped;
    expect(called).toBe(true);
  });
});
