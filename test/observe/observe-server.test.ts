/**
 * `relup observe`'s HTTP server over real HTTP, on a real calculator node: the token, the Host check,
 * GET only, no CORS, the page's files, the event stream (overview, samples, the journal of an install as
 * it happens), the read-only queries, and that nothing it is sent changes the node.
 */
import http from "node:http";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { startObserveServer, type ObserveServer } from "../../src/observe/observe-server.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const FIXTURES = path.resolve("fixtures");
const servers: ObserveServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, pathname: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: pathname, method: options.method ?? "GET", headers: options.headers ?? {} }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** An event stream: resolves `next(name, test)` with the first event of that name whose data passes the test. */
function eventStream(port: number, pathname: string) {
  const seen: { event: string; data: unknown }[] = [];
  const waiting: { name: string; test: (d: never) => boolean; resolve: (d: unknown) => void }[] = [];
  const req = http.get({ host: "127.0.0.1", port, path: pathname }, (res) => {
    let buffer = "";
    res.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!event || data === undefined) continue;
        const e = { event, data: JSON.parse(data) as unknown };
        seen.push(e);
        for (const w of [...waiting]) if (w.name === event && w.test(e.data as never)) (waiting.splice(waiting.indexOf(w), 1), w.resolve(e.data));
      }
    });
  });
  return {
    next<T>(name: string, test: (d: T) => boolean = () => true): Promise<T> {
      const found = seen.find((e) => e.event === name && test(e.data as T));
      if (found) return Promise.resolve(found.data as T);
      return new Promise((resolve) => waiting.push({ name, test: test as (d: never) => boolean, resolve: resolve as (d: unknown) => void }));
    },
    close: () => req.destroy(),
  };
}

async function observed() {
  const n = await liveNode({ from: path.join(FIXTURES, "calculator", "1.0.0"), to: path.join(FIXTURES, "calculator", "1.1.0"), app: "calculator" });
  const server = await startObserveServer({ root: n.root });
  servers.push(server);
  return { n, server, base: `/${server.token}/` };
}

describe("relup observe: the HTTP server", () => {
  it("refuses a request without the token, with another token, to another Host, from another site, and anything but GET", async () => {
    const { n, server, base } = await observed();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}${base}`);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await request(server.port, "/")).status).toBe(403);
    expect((await request(server.port, "/events")).status).toBe(403);
    expect((await request(server.port, `/${server.token.slice(0, -1)}x/`)).status).toBe(403);
    expect((await request(server.port, `/${server.token}x/`)).status).toBe(403);
    const home = await request(server.port, base);
    expect(home.status).toBe(200);
    expect(home.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(home.headers["access-control-allow-origin"]).toBeUndefined();
    expect(home.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(home.headers["cache-control"]).toBe("no-store");
    expect(home.headers["referrer-policy"]).toBe("no-referrer");
    // DNS rebinding: a name that resolves to 127.0.0.1 is still not this server's host.
    expect((await request(server.port, base, { headers: { Host: `evil.example:${server.port}` } })).status).toBe(421);
    expect((await request(server.port, base, { headers: { Host: `localhost:${server.port}` } })).status).toBe(200);
    expect((await request(server.port, base, { headers: { Host: `LOCALHOST:${server.port}` } })).status).toBe(200);
    // The page, its files and the event stream take no query parameters.
    for (const route of ["?x=1", "app.js?x=1", "events?x=1"]) expect((await request(server.port, `${base}${route}`)).status).toBe(400);
    expect((await request(server.port, base, { headers: { "Sec-Fetch-Site": "cross-site" } })).status).toBe(403);
    expect((await request(server.port, `${base}api/processes`, { headers: { Origin: "http://evil.example" } })).status).toBe(403);
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const refused = await request(server.port, `${base}api/processes`, { method });
      expect(refused.status).toBe(405);
      expect(refused.headers.allow).toBe("GET, HEAD");
    }
    expect((await request(server.port, `${base}../package.json`)).status).toBe(403);
    expect((await request(server.port, `${base}static/app.js`)).status).toBe(404);
    expect((await request(server.port, `${base}api/processes?limit=100000`)).status).toBe(400);
    expect((await request(server.port, `${base}api/processes?cmd=stop`)).status).toBe(400);
    // The node serves on, as it was.
    expect((await controlRequest(n.root, { cmd: "status" })).release.version).toBe("1.0.0");
  }, 60_000);

  it("serves the page's files and the read-only queries", async () => {
    const { server, base } = await observed();
    for (const file of ["app.js", "charts.js", "timeline.js", "views.js"]) {
      const reply = await request(server.port, base + file);
      expect(reply.status).toBe(200);
      expect(reply.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    }
    expect((await request(server.port, `${base}style.css`)).headers["content-type"]).toBe("text/css; charset=utf-8");
    const page = JSON.parse((await request(server.port, `${base}api/processes?limit=1&search=sup`)).body) as { total: number; rows: { module: string }[] };
    expect(page).toMatchObject({ total: 1, rows: [{ module: "calculator/sup" }] });
    const top = page.rows[0] as unknown as { pid: string };
    const tree = JSON.parse((await request(server.port, `${base}api/tree?pid=${encodeURIComponent(top.pid)}`)).body) as { node: { module: string; children: unknown[] } };
    expect(tree.node).toMatchObject({ module: "calculator/sup", children: [expect.objectContaining({ module: "calculator/http_server" })] });
    expect((await request(server.port, `${base}api/plan?id=1`)).status).toBe(404);
  }, 60_000);

  it("streams the overview and the samples, and an install's journal as it happens, with its plan's view", async () => {
    const { n, server, base } = await observed();
    const stream = eventStream(server.port, `${base}events`);
    try {
      const overview = await stream.next<{ status: { release: { version: string } }; releases: { version: string; status: string }[]; tree: { name: string; top: { module: string } }[]; summary: { total: number } }>("overview");
      expect(overview.status.release.version).toBe("1.0.0");
      expect(overview.releases).toEqual([{ name: "calculator", version: "1.0.0", status: "permanent" }]);
      expect(overview.tree).toMatchObject([{ name: "calculator", top: { module: "calculator/sup" } }]);
      expect(overview.summary.total).toBeGreaterThan(0);
      expect(await stream.next("node")).toMatchObject({ up: true });
      await stream.next<unknown[]>("samples", (s) => s.length > 0);
      await applyRelease({ root: n.root, release: n.v2, confirm: async () => true });
      const journal = await stream.next<{ records: { id: number; outcome: string; steps: { op: string; end?: number }[] }[] }>("journal", (j) => j.records.some((r) => r.outcome === "installed"));
      const record = journal.records.find((r) => r.outcome === "installed")!;
      expect(record.steps.map((s) => s.op)).toEqual(["load_object_code", "point_of_no_return", "load"]);
      const after = await stream.next<{ status: { release: { version: string } }; releases: { version: string; status: string }[] }>("overview", (o) => o.status.release.version === "1.1.0");
      expect(after.releases).toEqual([
        { name: "calculator", version: "1.0.0", status: "permanent" },
        { name: "calculator", version: "1.1.0", status: "current" },
      ]);
      const plan = JSON.parse((await request(server.port, `${base}api/plan?id=${record.id}`)).body) as { markdown: string; html: string };
      expect(plan.markdown).toContain("### relup plan: calculator 1.0.0 → 1.1.0");
      expect(plan.html).toContain("<h3>relup plan: calculator 1.0.0 → 1.1.0</h3>");
      expect(plan.html).toContain("<td><code>point_of_no_return</code></td>");
      expect(plan.html).not.toMatch(/<script|<img|on\w+=/i);
    } finally {
      stream.close();
    }
  }, 60_000);
});
