/**
 * A small release for fleet rollout tests, `counter`: an HTTP listener on PORT (kept in the web process's
 * state, so it survives a live upgrade) and one `counter` server whose count is the in-memory state a
 * rollout must keep. Version 1.1.0 changes only the counter: its state gains `v: 2` (codeChange up, and
 * back down on a rollback) and `/code` answers 2. Routes: /state, /bump, /code, /crash (the counter
 * throws: a crash and a supervisor restart, which the node's health counts), /healthz (200 "ok", or 500
 * when the counter says it is sick: a 1.1.0 written with `sick`, for --health-path, with no crash).
 * Options: `sick`, and `appup`: a hand-written appup.json for the counter application.
 */
import path from "node:path";
import { writeProject } from "./project.ts";

const COUNTER = (vsn: 1 | 2, sick: boolean) => `
export const behaviour = "server";
export const vsn = ${vsn};
export function init() { return { count: 0${vsn === 2 ? ", v: 2" : ""} }; }
export function handleCall(req: string, _from: unknown, state: { count: number }) {
  if (req === "bump") return { reply: state.count + 1, state: { ...state, count: state.count + 1 } };
  if (req === "code") return { reply: ${vsn}, state };
  if (req === "health") return { reply: "${sick ? "sick" : "ok"}", state };
  if (req === "crash") throw new Error("crash asked for");
  return { reply: state, state };
}
${
  vsn === 2
    ? `export function codeChange(old: unknown, state: any) {
  if (old === 1) return { ...state, v: 2 };
  const { v: _v, ...rest } = state;
  return rest;
}`
    : ""
}
`;

const WEB = `
import http from "node:http";
import { call } from "relup/runtime";
export const behaviour = "server";
export async function init() {
  const server = http.createServer(async (req, res) => {
    try {
      const body =
        req.url === "/state" ? await call("counter", "get") :
        req.url === "/bump" ? await call("counter", "bump") :
        req.url === "/code" ? await call("counter", "code") :
        req.url === "/crash" ? await call("counter", "crash") :
        req.url === "/healthz" ? await call("counter", "health") : undefined;
      if (req.url === "/healthz" && body !== "ok") return void res.writeHead(500).end(String(body));
      res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" }).end(JSON.stringify(body ?? null));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(process.env.PORT), "127.0.0.1", () => resolve());
  });
  return { server };
}
export function handleCall(_r: unknown, _f: unknown, s: unknown) { return { reply: null, state: s }; }
export async function terminate(_reason: unknown, state: { server: http.Server }) { await new Promise((r) => state.server.close(r)); }
`;

const SUP = `
export const behaviour = "supervisor";
export function init() {
  return {
    strategy: "one_for_one",
    intensity: 10,
    period: 5,
    children: [
      { id: "web", module: "web", args: {} },
      { id: "counter", module: "counter", name: "counter", args: {} },
    ],
  };
}
`;

const APP = `
import { startSupervisor } from "relup/runtime";
export const behaviour = "application";
export function start() { return startSupervisor("sup", {}); }
`;

export interface CounterOptions {
  /** /healthz answers 500 (the counter says "sick"; nothing crashes) */
  sick?: boolean;
  /** apps/counter/appup.json, written as given */
  appup?: unknown;
}

/** Any version but 1.0.0 has the counter of 1.1.0 (vsn 2: a fix after a bad 1.1.0 is 1.1.1, say). */
export async function writeCounterRelease(dir: string, version: "1.0.0" | "1.1.0" | "1.1.1", options: CounterOptions = {}): Promise<string> {
  const project = path.join(dir, `counter-${version}`);
  await writeProject(project, {
    config: { format: 1, name: "counter", version, applications: [{ name: "counter", version, start: "app", env: {} }] },
    files: {
      "apps/counter/app.ts": APP,
      "apps/counter/sup.ts": SUP,
      "apps/counter/web.ts": WEB,
      "apps/counter/counter.ts": COUNTER(version === "1.0.0" ? 1 : 2, options.sick === true),
      ...(options.appup !== undefined ? { "apps/counter/appup.json": JSON.stringify(options.appup, null, 2) } : {}),
    },
  });
  return project;
}
