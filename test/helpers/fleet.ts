/**
 * A small release for upgrade tests: `fleet`, an HTTP endpoint and N named `worker` servers under one
 * supervisor. Tests vary version 2 (the worker's migration, extra modules, the supervisor's children,
 * a hand-written appup) to make one thing fail at a time, and read every worker's state over HTTP.
 */
import path from "node:path";
import { writeProject } from "./project.ts";

export interface FleetSpec {
  version: string;
  /** the worker module's source; default WORKER_V1 */
  worker?: string;
  sup?: string;
  extraFiles?: Record<string, string | object>;
  env?: Record<string, unknown>;
  appVersion?: string;
}

export const WORKERS = 5;

export const WORKER_V1 = `
export const behaviour = "server";
export const vsn = 1;
export function init(args: { id: number }) { return { id: args.id, count: 0 }; }
export async function handleCall(req: string, _from: unknown, state: { id: number; count: number }) {
  if (req === "bump") return { reply: state.count + 1, state: { ...state, count: state.count + 1 } };
  if (req === "code") return { reply: 1, state };
  // Busy in a handler until the web's /unblock (no timer: a loaded machine cannot end it early).
  if (req === "block") { await new Promise((r) => { (globalThis as { unblockWorker?: (v: unknown) => void }).unblockWorker = r; }); return { reply: "unblocked", state }; }
  return { reply: state, state };
}
`;

/** Version 2 of the worker: state gains `v: 2`; the migration throws for the worker ids given. */
export function workerV2(failUp: number[] = [], failDown: number[] = []): string {
  return `
export const behaviour = "server";
export const vsn = 2;
export function init(args: { id: number }) { return { id: args.id, count: 0, v: 2 }; }
export function handleCall(req: string, _from: unknown, state: { id: number; count: number; v: number }) {
  if (req === "bump") return { reply: state.count + 1, state: { ...state, count: state.count + 1 } };
  if (req === "code") return { reply: 2, state };
  return { reply: state, state };
}
export function codeChange(old: unknown, state: any) {
  if (old === 1) {
    if (${JSON.stringify(failUp)}.includes(state.id)) throw new Error("cannot migrate worker " + state.id);
    return { ...state, v: 2 };
  }
  if (${JSON.stringify(failDown)}.includes(state.id)) throw new Error("cannot migrate worker " + state.id + " down");
  const { v, ...rest } = state;
  return rest;
}
`;
}

export const SUP = (extraChildren = "") => `
export const behaviour = "supervisor";
export function init(env: { port: number; workers: number }) {
  return {
    strategy: "one_for_one",
    children: [
      { id: "web", module: "web", args: env },
      ...Array.from({ length: env.workers }, (_, i) => ({ id: "w" + i, module: "worker", name: "w" + i, args: { id: i } })),
      ${extraChildren}
    ],
  };
}
`;

const WEB = `
import http from "node:http";
import { call, getEnv } from "relup/runtime";
export const behaviour = "server";
export async function init(env: { port: number; workers: number }) {
  const ids = Array.from({ length: env.workers }, (_, i) => "w" + i);
  const server = http.createServer(async (req, res) => {
    try {
      const body =
        req.url === "/state" ? await Promise.all(ids.map((id) => call(id, "get"))) :
        req.url === "/bump" ? await Promise.all(ids.map((id) => call(id, "bump"))) :
        req.url === "/code" ? await Promise.all(ids.map((id) => call(id, "code"))) :
        req.url === "/env" ? getEnv() :
        req.url === "/one" ? await call("w0", "get") :
        req.url?.startsWith("/bare/") ? await call("w0", { bare: Number(req.url.slice(6)) }, 600_000) :
        req.url?.startsWith("/block/") ? await call("w" + req.url.slice(7), "block", 60_000) :
        req.url === "/unblock" ? ((globalThis as { unblockWorker?: (v: unknown) => void }).unblockWorker?.(null), "ok") : null;
      res.writeHead(body === null ? 404 : 200, { "content-type": "application/json" }).end(JSON.stringify(body));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(env.port, "127.0.0.1", () => resolve()));
  return { server };
}
export function handleCall(_r: unknown, _f: unknown, s: unknown) { return { reply: null, state: s }; }
export async function terminate(_reason: unknown, state: { server: http.Server }) { await new Promise((r) => state.server.close(r)); }
`;

const APP = `
import { startSupervisor } from "relup/runtime";
export const behaviour = "application";
export function start(env: { port: number; workers: number }) { return startSupervisor("sup", env); }
`;

export async function writeFleet(dir: string, spec: FleetSpec): Promise<string> {
  const project = path.join(dir, `fleet-${spec.version}`);
  await writeProject(project, {
    config: {
      format: 1,
      name: "fleet",
      version: spec.version,
      applications: [{ name: "fleet", version: spec.appVersion ?? spec.version, start: "app", env: { port: 0, workers: WORKERS, ...spec.env } }],
    },
    files: {
      "apps/fleet/app.ts": APP,
      "apps/fleet/sup.ts": spec.sup ?? SUP(),
      "apps/fleet/web.ts": WEB,
      "apps/fleet/worker.ts": spec.worker ?? WORKER_V1,
      ...spec.extraFiles,
    },
  });
  return project;
}
