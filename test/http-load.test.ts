/**
 * The load helper of the live upgrade tests counts what it claims: answers, and as failures a status
 * other than 200, a body `accepts` refuses, and a refused connection; its loops end when it is stopped.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../src/net-helpers.ts";
import { startHttpLoad } from "./helpers/http-load.ts";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** A real server on the loopback: every third request answers 503, the others 200 with `ok` or `odd`. */
async function flakyServer(): Promise<{ port: number; served: () => number }> {
  let served = 0;
  const server = http.createServer((_req, res) => {
    served++;
    if (served % 3 === 0) res.writeHead(503).end("busy\n");
    else res.writeHead(200).end(served % 3 === 1 ? "ok\n" : "odd\n");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, served: () => served };
}

describe("http load", () => {
  it("counts answered and failed requests (a non-200 status, a refused body) until stopped, then sends no more", async () => {
    const { port, served } = await flakyServer();
    const load = startHttpLoad({ port, path: "/", concurrency: 3, accepts: (body) => body === "ok" });
    await load.answers(10);
    const counts = await load.stop();
    expect(counts.answered).toBeGreaterThanOrEqual(10);
    expect(counts.failed).toBeGreaterThan(0);
    expect(counts.answered + counts.failed).toBe(served());
    expect(counts.failures).toContain("503 busy");
    expect(counts.failures).toContain('unexpected answer "odd"');
    const after = served();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(served()).toBe(after);
    await expect(load.answers(1)).rejects.toThrow("the load is stopped");
  });

  it("counts a refused connection as a failure, and a wait for answers ends when the load stops", async () => {
    const load = startHttpLoad({ port: await freePort(), path: "/", concurrency: 1 });
    const waiting = load.answers(1);
    const counts = await load.stop();
    await expect(waiting).rejects.toThrow("the load stopped after 0 answers");
    expect(counts.answered).toBe(0);
    expect(counts.failed).toBeGreaterThan(0);
    expect(counts.failures[0]).toMatch(/^ECONNREFUSED/);
  });
});
