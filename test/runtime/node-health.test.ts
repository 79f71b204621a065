/**
 * The `health` control request on a real node: the runtime's counters since boot (processes that ended
 * with an error, supervisor restarts, calls that rejected) and the event-loop delay since the previous
 * read, as a fleet's agent publishes them.
 */
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { get } from "../../src/net-helpers.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import { READ_ONLY_COMMANDS } from "../../src/runtime/control-protocol.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { writeProject } from "../helpers/project.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

const SUP = `
export const behaviour = "supervisor";
export function init(env: { port: number }) {
  return { strategy: "one_for_one", intensity: 10, children: [{ id: "web", module: "web", args: env }, { id: "w", module: "worker", name: "w" }] };
}
`;

const WORKER = `
export const behaviour = "server";
export function init() { return {}; }
export async function handleCall(req: string, _from: unknown, state: object) {
  if (req === "crash") throw new Error("the worker crashed on purpose");
  if (req === "sleep") await new Promise((r) => setTimeout(r, 1_000));
  return { reply: "ok", state };
}
`;

/** Each path makes one thing happen on the node: a crash, a call that times out, a call to nobody, a blocked loop. */
const WEB = `
import http from "node:http";
import { call } from "relup/runtime";
export const behaviour = "server";
export async function init(env: { port: number }) {
  const server = http.createServer(async (req, res) => {
    try {
      if (req.url === "/busy") { const end = Date.now() + 300; while (Date.now() < end); }
      const body =
        req.url === "/crash" ? await call("w", "crash") :
        req.url === "/slow" ? await call("w", "sleep", 20) :
        req.url === "/noproc" ? await call("nobody", "hello") :
        req.url === "/ok" ? await call("w", "hello") : "busy";
      res.writeHead(200).end(JSON.stringify(body));
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
export function start(env: { port: number }) { return startSupervisor("sup", env); }
`;

async function project(dir: string, version: string): Promise<string> {
  return writeProject(path.join(dir, version), {
    config: { format: 1, name: "health", version, applications: [{ name: "health", version, start: "app", env: { port: 0 } }] },
    files: { "apps/health/app.ts": APP, "apps/health/sup.ts": SUP, "apps/health/web.ts": WEB, "apps/health/worker.ts": WORKER },
  });
}

describe("the health control request", () => {
  it("counts crashes, supervisor restarts and failed calls since boot, and the loop delay since the last read", async () => {
    const dir = await tempDir();
    const n = await liveNode({ from: await project(dir, "1.0.0"), to: await project(dir, "1.0.1"), app: "health" });
    expect(READ_ONLY_COMMANDS).toContain("health");

    const first = await controlRequest(n.root, { cmd: "health" });
    expect(first).toMatchObject({ nodePid: n.ready.pid, crashes: 0, restarts: 0, failedCalls: 0 });
    expect(first.uptimeMs).toBeGreaterThan(0);
    expect(await get(n.port, "/ok")).toBe('"ok"');

    // The worker crashes inside a call: one process ended with an error, its supervisor restarted it,
    // and the call rejected.
    expect(await get(n.port, "/crash")).toMatch(/crashed on purpose/);
    await vi.waitFor(async () => expect(await controlRequest(n.root, { cmd: "health" })).toMatchObject({ crashes: 1, restarts: 1, failedCalls: 1 }), { timeout: 10_000 });
    expect(await get(n.port, "/ok")).toBe('"ok"');

    // A call that times out and a call to no process reject too; neither is a crash.
    expect(await get(n.port, "/slow")).toMatch(/timed out/);
    expect(await get(n.port, "/noproc")).toMatch(/no process/);
    expect(await controlRequest(n.root, { cmd: "health" })).toMatchObject({ nodePid: n.ready.pid, crashes: 1, restarts: 1, failedCalls: 3 });

    // A loop blocked for 300 ms shows in the interval since the previous read, and the read starts a new one.
    expect(await get(n.port, "/busy")).toBe('"busy"');
    const blocked = await controlRequest(n.root, { cmd: "health" });
    expect(blocked.loopMaxMs).toBeGreaterThanOrEqual(250);
    expect(blocked.loopP99Ms).toBeGreaterThan(0);
    const after = await controlRequest(n.root, { cmd: "health" });
    expect(after.loopMaxMs).toBeLessThan(blocked.loopMaxMs);
    expect(after.uptimeMs).toBeGreaterThanOrEqual(blocked.uptimeMs);
  }, 120_000);
});
