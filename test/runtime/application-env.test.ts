/**
 * Application env and specs across an install, on real nodes with a real root config.json:
 * - the operator's overrides in config.json win over app.json defaults, live and after a restart, and
 *   the application is told only of the keys whose effective value changed;
 * - the target release's env is visible to codeChange (up and down) and to the loaded code, and the
 *   start module's configChange runs in the code of the release being installed, after its code change;
 * - after any install the controller holds the target release's app files (version, start module, env),
 *   also through a hand-written restart_application; rollback brings the older ones back.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { get } from "../../src/net-helpers.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { Ready } from "../../src/runtime/launcher.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { writeProject } from "../helpers/project.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

const V1_ENV = { port: 0, greeting: "hello", limit: 10, old: true };
const V2_ENV = { port: 0, greeting: "hi", limit: 20, fresh: 1 };

/** The `keeper` server: answers GET /env (the live env) and GET /state, and records its code changes with the env they saw. */
const keeper = (code: number) => `
import http from "node:http";
import { call, getEnv } from "relup/runtime";
export const behaviour = "server";
export const vsn = ${code};
interface State { server: http.Server; startedBy: string; initEnv: unknown; events: unknown[] }
export async function init(args: { startedBy: string; port: number }): Promise<State> {
  const server = http.createServer((req, res) => {
    void (async () => {
      const body = req.url === "/env" ? getEnv() : req.url === "/state" ? await call("keeper", { op: "state" }) : null;
      res.writeHead(body === null ? 404 : 200, { "content-type": "application/json" }).end(JSON.stringify(body));
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(args.port, "127.0.0.1", () => resolve());
  });
  return { server, startedBy: args.startedBy, initEnv: { ...getEnv<object>() }, events: [] };
}
export function handleCall(_request: { op: "state" }, _from: unknown, state: State) {
  const { server: _server, ...rest } = state;
  return { reply: { ...rest, code: ${code} }, state };
}
export function handleCast(msg: { op: "event"; event: unknown }, state: State): State {
  return { ...state, events: [...state.events, msg.event] };
}
export function codeChange(vsn: unknown, state: State): State {
  const direction = typeof vsn === "object" && vsn !== null ? "down" : "up";
  return { ...state, events: [...state.events, { codeChange: direction, code: ${code}, limit: getEnv("limit") }] };
}
export async function terminate(_reason: unknown, state: State): Promise<void> {
  await new Promise<void>((resolve) => {
    state.server.close(() => resolve());
    state.server.closeAllConnections();
  });
}
`;

/** A start module named `name`: starts `keeper` and forwards configChange to it as an event. */
const startModule = (name: string, code: number, fails: { start?: boolean; configChange?: boolean } = {}) => `
import { cast, startServer } from "relup/runtime";
export const behaviour = "application";
export function start(env: { port: number }) {
  ${fails.start ? `throw new Error("${name} ${code} cannot start");` : ""}
  return startServer("keeper", { startedBy: "${name} ${code}", port: env.port }, { name: "keeper" });
}
export function configChange(changed: object, added: object, removed: string[]) {
  ${fails.configChange ? `throw new Error("${name} ${code} refuses the new env");` : ""}
  cast("keeper", { op: "event", event: { configChange: "${name} ${code}", changed, added, removed } });
}
`;

interface Version {
  version: string;
  code: number;
  env: Record<string, unknown>;
  start?: string;
  appup?: object;
  /** its start module's start or configChange throws */
  fails?: { start?: boolean; configChange?: boolean };
}

function project(dir: string, v: Version): Promise<string> {
  const start = v.start ?? "app";
  return writeProject(path.join(dir, v.version), {
    config: { format: 1, name: "conf", version: v.version, applications: [{ name: "conf", version: v.version, start, env: v.env }] },
    files: {
      [`apps/conf/${start}.ts`]: startModule(start, v.code, v.fails),
      "apps/conf/keeper.ts": keeper(v.code),
      ...(v.appup ? { "apps/conf/appup.json": v.appup } : {}),
    },
  });
}

async function node(v1: Version, v2: Version, config: Record<string, unknown> = {}) {
  const dir = await tempDir();
  const n = await liveNode({ dir, from: await project(dir, v1), to: await project(dir, v2), app: "conf", config });
  const json = async (p: string) => JSON.parse(await get(n.port, p)) as Record<string, unknown>;
  return { ...n, json };
}

const apply = (root: string, release: string, permanent = false) => applyRelease({ root, release, permanent, confirm: async () => true });
const rollback = (root: string) => controlRequest(root, { cmd: "rollback" });
const applications = async (root: string) => ((await controlRequest(root, { cmd: "status" })) as { applications: { name: string; version: string; status: string }[] }).applications;

describe("operator overrides in the root's config.json", () => {
  it("win over the new defaults live, after a restart and after rollback; configChange hears only effective changes", async () => {
    const n = await node({ version: "1.0.0", code: 1, env: V1_ENV }, { version: "2.0.0", code: 2, env: V2_ENV }, { limit: 15 });
    const port = n.port;
    expect(await n.json("/env")).toEqual({ ...V1_ENV, port, limit: 15 });

    await apply(n.root, n.v2);
    expect(await n.json("/env")).toEqual({ ...V2_ENV, port, limit: 15 });
    // limit's default changed (10 → 20) but its effective value (15) did not.
    expect((await n.json("/state")).events).toContainEqual({ configChange: "app 2", changed: { greeting: "hi" }, added: { fresh: 1 }, removed: ["old"] });

    await rollback(n.root);
    expect(await n.json("/env")).toEqual({ ...V1_ENV, port, limit: 15 });

    await apply(n.root, "2.0.0", true);
    const restarted = new Promise<Ready>((resolve) => n.launcher.once("ready", resolve));
    process.kill(n.ready.pid, "SIGKILL");
    expect((await restarted).version).toBe("2.0.0");
    expect(await n.json("/env")).toEqual({ ...V2_ENV, port, limit: 15 });

    await rollback(n.root);
    expect(await n.json("/env")).toEqual({ ...V1_ENV, port, limit: 15 });
  });

  it("a bad config.json stops the install before any step, naming the file", async () => {
    const n = await node({ version: "1.0.0", code: 1, env: V1_ENV }, { version: "2.0.0", code: 2, env: V2_ENV });
    await writeFile(path.join(n.root, "config.json"), JSON.stringify({ conf: ["not", "an", "object"] }));
    const error = await apply(n.root, n.v2).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/config\.json.*conf/);
    expect(await applications(n.root)).toEqual([expect.objectContaining({ name: "conf", version: "1.0.0", status: "running" })]);
    expect((await n.json("/env")).limit).toBe(10);
  });
});

describe("the target env is visible before the code changes", () => {
  it("codeChange sees the new env on the way up and the old on the way down; configChange runs in the installed code, after it", async () => {
    const n = await node({ version: "1.0.0", code: 1, env: V1_ENV }, { version: "2.0.0", code: 2, env: V2_ENV });
    await apply(n.root, n.v2);
    const up = [
      { codeChange: "up", code: 2, limit: 20 },
      { configChange: "app 2", changed: { greeting: "hi", limit: 20 }, added: { fresh: 1 }, removed: ["old"] },
    ];
    expect((await n.json("/state")).events).toEqual(up);

    await rollback(n.root);
    expect((await n.json("/state")).events).toEqual([
      ...up,
      { codeChange: "down", code: 2, limit: 10 },
      { configChange: "app 1", changed: { greeting: "hello", limit: 10 }, added: { old: true }, removed: ["fresh"] },
    ]);
    expect(await n.json("/env")).toEqual({ ...V1_ENV, port: n.port });
  });
});

describe("the controller holds the installed release's app files", () => {
  it("a hand-written appup that names no env change still leaves the new env, told to the application when the install commits", async () => {
    const instructions = [{ op: "update", module: "keeper", change: { advanced: {} } }, { op: "load_module", module: "app" }];
    const appup = { format: 1, application: "conf", version: "2.0.0", up: [{ from: "1.0.0", instructions }], down: [{ to: "1.0.0", instructions }] };
    const n = await node({ version: "1.0.0", code: 1, env: V1_ENV }, { version: "2.0.0", code: 2, env: V2_ENV, appup }, { greeting: "hey" });
    await apply(n.root, n.v2);
    expect(await n.json("/env")).toEqual({ ...V2_ENV, port: n.port, greeting: "hey" });
    expect((await n.json("/state")).events).toEqual([
      { codeChange: "up", code: 2, limit: 10 },
      { configChange: "app 2", changed: { limit: 20 }, added: { fresh: 1 }, removed: ["old"] },
    ]);
    await rollback(n.root);
    expect(await n.json("/env")).toEqual({ ...V1_ENV, port: n.port, greeting: "hey" });
    expect(await applications(n.root)).toEqual([expect.objectContaining({ name: "conf", version: "1.0.0", status: "running" })]);
  });

  it("a configChange that throws when the install commits rolls the whole install back", async () => {
    const instructions = [{ op: "update", module: "keeper", change: { advanced: {} } }, { op: "load_module", module: "app" }];
    const appup = { format: 1, application: "conf", version: "2.0.0", up: [{ from: "1.0.0", instructions }], down: [{ to: "1.0.0", instructions }] };
    const n = await node({ version: "1.0.0", code: 1, env: V1_ENV }, { version: "2.0.0", code: 2, env: V2_ENV, appup, fails: { configChange: true } });
    const error = await apply(n.root, n.v2).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/configChange of conf, told of its new env when the install committed after the last step, failed: app 2 refuses the new env/);
    expect(await n.json("/env")).toEqual({ ...V1_ENV, port: n.port });
    expect(await n.json("/state")).toMatchObject({ code: 1, events: [] });
    expect(await applications(n.root)).toEqual([expect.objectContaining({ name: "conf", version: "1.0.0", status: "running" })]);
  });

  it("relup status lists the application at the installed version, and at the older one after rollback", async () => {
    const n = await node({ version: "1.0.0", code: 1, env: V1_ENV }, { version: "2.0.0", code: 2, env: V2_ENV });
    await apply(n.root, n.v2);
    const after = await relup(["status", "--root", n.root]);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^ {2}conf 2\.0\.0: running/m);
    await rollback(n.root);
    expect((await relup(["status", "--root", n.root])).stdout).toMatch(/^ {2}conf 1\.0\.0: running/m);
  });

  it("a hand-written restart_application starts the new start module with the new env, and the old one after rollback", async () => {
    const restart = { op: "restart_application", application: "conf" };
    const appup = { format: 1, application: "conf", version: "2.0.0", up: [{ from: "1.0.0", instructions: [restart] }], down: [{ to: "1.0.0", instructions: [restart] }] };
    const n = await node({ version: "1.0.0", code: 1, env: V1_ENV }, { version: "2.0.0", code: 2, env: V2_ENV, start: "main", appup });
    expect(await n.json("/state")).toMatchObject({ startedBy: "app 1", code: 1 });

    await apply(n.root, n.v2);
    expect(await n.json("/state")).toMatchObject({ startedBy: "main 2", code: 2, initEnv: { ...V2_ENV, port: n.port } });
    expect(await applications(n.root)).toEqual([expect.objectContaining({ name: "conf", version: "2.0.0", status: "running" })]);

    await rollback(n.root);
    expect(await n.json("/state")).toMatchObject({ startedBy: "app 1", code: 1, initEnv: { ...V1_ENV, port: n.port } });
    expect(await applications(n.root)).toEqual([expect.objectContaining({ name: "conf", version: "1.0.0", status: "running" })]);
  });

  it("a restart_application whose new start module fails is rolled back: the old app file, start module and env run again", async () => {
    const restart = { op: "restart_application", application: "conf" };
    const appup = { format: 1, application: "conf", version: "2.0.0", up: [{ from: "1.0.0", instructions: [restart] }], down: [{ to: "1.0.0", instructions: [restart] }] };
    const n = await node({ version: "1.0.0", code: 1, env: V1_ENV }, { version: "2.0.0", code: 2, env: V2_ENV, start: "main", appup, fails: { start: true } });
    const error = await apply(n.root, n.v2).catch((e: Error) => e);
    expect((error as Error).message).toContain("main 2 cannot start");
    expect(await n.json("/state")).toMatchObject({ startedBy: "app 1", code: 1, initEnv: { ...V1_ENV, port: n.port } });
    expect(await n.json("/env")).toEqual({ ...V1_ENV, port: n.port });
    expect(await applications(n.root)).toEqual([expect.objectContaining({ name: "conf", version: "1.0.0", status: "running" })]);
  });
});
