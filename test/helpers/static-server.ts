/**
 * A real HTTP server on loopback serving a directory (GET only), as an artifact server serves a release
 * store, with a hook to answer some paths otherwise (an error status, a redirect). Closed after each test.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterEach } from "vitest";

export interface StaticServer {
  url: string;
  /** the paths requested, in order */
  requests: string[];
  /** answer a path with this status (and Location, for a redirect) instead of the file */
  override(pathname: string, status: number, location?: string): void;
}

export function useStaticServers(): (dir: string) => Promise<StaticServer> {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });
  return async (dir) => {
    const requests: string[] = [];
    const overrides = new Map<string, { status: number; location?: string }>();
    const server = http.createServer((req, res) => {
      const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      requests.push(pathname);
      const override = overrides.get(pathname);
      if (override) {
        res.writeHead(override.status, override.location ? { location: override.location } : {}).end();
        return;
      }
      const file = path.join(dir, pathname);
      if (req.method !== "GET" || !file.startsWith(dir + path.sep)) {
        res.writeHead(req.method !== "GET" ? 405 : 403).end();
        return;
      }
      stat(file).then(
        (info) => {
          if (!info.isFile()) return void res.writeHead(404).end();
          res.writeHead(200, { "content-length": info.size });
          createReadStream(file).pipe(res);
        },
        () => void res.writeHead(404).end(),
      );
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, requests, override: (p, status, location) => void overrides.set(p, { status, ...(location ? { location } : {}) }) };
  };
}
