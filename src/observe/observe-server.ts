/**
 * The HTTP server of `relup observe`: a read-only dashboard of one node, for the person at this machine.
 *
 * Who may use it: it listens on 127.0.0.1 only, and every URL starts with a random access token (32
 * bytes, base64url: `http://127.0.0.1:PORT/TOKEN/`), compared in constant time; any other path is
 * refused (403) without saying more. A Host header other than 127.0.0.1:PORT or localhost:PORT is
 * refused (421), so that a web page whose name an attacker points at 127.0.0.1 (DNS rebinding) reaches
 * nothing, and so is a request a browser marks as sent from another site (Sec-Fetch-Site: cross-site) or
 * with another Origin. No CORS header is ever sent, and only GET and HEAD are answered (405 otherwise).
 *
 * What it can do: read. The static page (./static, shipped in the package, no build step), server-sent
 * events of what the node-feed reads, and three read-only queries (a page of processes, a subtree, a
 * plan's view); nothing here sends the node a request that changes it (NodeFeed.ask refuses any).
 *
 * Every answer says: no caching, no referrer, no framing, and a content security policy that allows
 * only this origin's own scripts and styles.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { NodeFeed, type FeedEvent } from "./node-feed.ts";

const STATIC_DIR = new URL("./static/", import.meta.url);
/** The files of the page, by name: nothing else under ./static is served. */
const STATIC_FILES: Record<string, string> = {
  "": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "charts.js": "text/javascript; charset=utf-8",
  "timeline.js": "text/javascript; charset=utf-8",
  "views.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

const HEADERS = {
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/** How often an idle event stream gets a comment line, so that nothing between closes it. */
const HEARTBEAT_MS = 15_000;

const ProcessQuery = z
  .object({
    offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
    search: z.string().max(200).optional(),
    module: z.string().min(1).max(500).optional(),
    status: z.enum(["running", "suspended", "exiting"]).optional(),
    sort: z.enum(["pid", "queue"]).optional(),
  })
  .strict();
const TreeQuery = z.object({ pid: z.string().min(1).max(100), offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() }).strict();
const PlanQuery = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).strict();

export interface ObserveServer {
  /** the dashboard's URL, token included */
  url: string;
  port: number;
  token: string;
  feed: NodeFeed;
  close(): Promise<void>;
}

export async function startObserveServer(options: { root: string; port?: number; token?: string }): Promise<ObserveServer> {
  const token = options.token ?? randomBytes(32).toString("base64url");
  const tokenHash = digest(token);
  const feed = new NodeFeed(options.root);
  const files = new Map(Object.entries(STATIC_FILES).map(([name, type]) => [name, { type, body: readFileSync(new URL(name === "" ? "index.html" : name, STATIC_DIR)) }]));
  const streams = new Set<http.ServerResponse>();
  let port = 0;

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error: Error) => {
      if (!res.headersSent) send(res, 502, "text/plain; charset=utf-8", `the node did not answer: ${error.message}\n`);
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Host names are case-insensitive; browsers send them in lower case.
    const host = (req.headers.host ?? "").toLowerCase();
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return send(res, 421, "text/plain; charset=utf-8", `refused: this dashboard answers only to http://127.0.0.1:${port} and http://localhost:${port}\n`);
    const url = new URL(req.url ?? "/", `http://${host}`);
    const [, given = "", ...rest] = url.pathname.split("/");
    if (!tokenMatches(given, tokenHash)) return send(res, 403, "text/plain; charset=utf-8", "refused: open the URL relup observe printed (it carries the access token)\n");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return send(res, 405, "text/plain; charset=utf-8", "refused: the dashboard only reads\n");
    }
    const origin = req.headers.origin;
    if (req.headers["sec-fetch-site"] === "cross-site" || (origin !== undefined && origin !== `http://${host}`)) return send(res, 403, "text/plain; charset=utf-8", "refused: a request from another site\n");
    const route = rest.join("/");
    if (rest.length === 0) {
      res.writeHead(308, { ...HEADERS, Location: `/${given}/` }).end();
      return;
    }
    const file = files.get(route);
    // The page, its files and the event stream take no query: any is refused, as unknown ones are below.
    if ((file || route === "events") && url.search !== "") return send(res, 400, "text/plain; charset=utf-8", `refused: ${route || "the page"} takes no query parameters\n`);
    if (file) return send(res, 200, file.type, file.body);
    if (route === "events") return events(res);
    const query = Object.fromEntries(url.searchParams);
    if (route === "api/processes") {
      const parsed = ProcessQuery.safeParse(query);
      if (!parsed.success) return badQuery(res, parsed.error);
      return json(res, await feed.ask({ cmd: "process-page", ...definedOnly(parsed.data) }));
    }
    if (route === "api/tree") {
      const parsed = TreeQuery.safeParse(query);
      if (!parsed.success) return badQuery(res, parsed.error);
      return json(res, await feed.ask({ cmd: "tree", ...definedOnly(parsed.data) }));
    }
    if (route === "api/plan") {
      const parsed = PlanQuery.safeParse(query);
      if (!parsed.success) return badQuery(res, parsed.error);
      const view = feed.plan(parsed.data.id);
      return view ? json(res, view) : send(res, 404, "text/plain; charset=utf-8", `no plan for install ${parsed.data.id}: the node no longer keeps it\n`);
    }
    return send(res, 404, "text/plain; charset=utf-8", "not found\n");
  }

  function events(res: http.ServerResponse): void {
    res.writeHead(200, { ...HEADERS, "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive" });
    streams.add(res);
    const write = (e: FeedEvent) => res.write(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
    res.write("retry: 1000\n\n");
    const unsubscribe = feed.subscribe(write);
    const heartbeat = setInterval(() => res.write(": alive\n\n"), HEARTBEAT_MS);
    res.on("close", () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/${token}/`,
    port,
    token,
    feed,
    close: async () => {
      feed.stop();
      for (const res of streams) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant time: the digests have one length whatever was given, so neither the length nor a prefix leaks. */
function tokenMatches(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...HEADERS, "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function json(res: http.ServerResponse, value: unknown): void {
  send(res, 200, "application/json; charset=utf-8", JSON.stringify(value));
}

function badQuery(res: http.ServerResponse, error: z.ZodError): void {
  send(res, 400, "text/plain; charset=utf-8", error.issues.map((i) => `${i.path.join(".") || "(query)"}: ${i.message}`).join("\n") + "\n");
}

/** The fields that are set (the control requests are strict about undefined ones in exactOptional terms). */
function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
