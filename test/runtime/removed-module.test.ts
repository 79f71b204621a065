/**
 * Modules that leave a release, and the processes that run them, on real nodes (issue 12):
 *   - a supervised child whose module is deleted is stopped through its supervisor (its terminate runs,
 *     its listener closes) before the module is removed;
 *   - a process no supervisor stops (here one started unsupervised by the application) is killed at the
 *     purge (exit reason `killed`, its monitors told), and `apply` reports it, before (`--dry-run`) and after;
 *   - a soft purge that would find such a process refuses the plan before step one;
 *   - a failure after the child was stopped puts everything back: the child runs again, and the process
 *     that would have been killed was not (the purge is the last step);
 *   - a child spec that keeps its id but lists new modules refreshes the running process's modules.
 */
import net from "node:net";
import path from "node:path";
import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { exitCodeOf } from "../../src/cli/exit-code.ts";
import { RuntimeError } from "../../src/runtime/issues/runtime-error.ts";
import { get } from "../../src/net-helpers.ts";
import { planReleases } from "../../src/relup/plan-releases.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { relup } from "../helpers/relup-cli.ts";
import { writeProject } from "../helpers/project.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

const JOURNAL = `
import { monitor } from "relup/runtime";
export const behaviour = "server";
export function init() { return { events: [] as string[] }; }
export function handleCall(req: { op: string; text?: string; name?: string }, _f: unknown, s: { events: string[] }) {
  if (req.op === "log") return { reply: null, state: { events: [...s.events, req.text!] } };
  if (req.op === "watch") { monitor(req.name!); return { reply: null, state: s }; }
  return { reply: s.events, state: s };
}
export function handleInfo(msg: { type: string; reason: unknown }, s: { events: string[] }) {
  return msg.type === "DOWN" ? { events: [...s.events, "down loner " + String(msg.reason)] } : s;
}
`;

const WORKER_B = `
import net from "node:net";
import { call } from "relup/runtime";
export const behaviour = "server";
export async function init() {
  const server = net.createServer((socket) => socket.end("b\\n"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { server, port: (server.address() as net.AddressInfo).port, pings: 0 };
}
export function handleCall(req: string, _f: unknown, s: { port: number; pings: number }) {
  if (req === "port") return { reply: s.port, state: s };
  return { reply: s.pings + 1, state: { ...s, pings: s.pings + 1 } };
}
export async function terminate(reason: unknown, s: { server: net.Server }) {
  await new Promise((resolve) => s.server.close(resolve));
  await call("journal", { op: "log", text: "terminate worker_b " + String(reason) });
}
`;

const LONER = `
export const behaviour = "server";
export function init() { return { count: 0 }; }
export function handleCall(_req: unknown, _f: unknown, s: { count: number }) { return { reply: s.count + 1, state: { count: s.count + 1 } }; }
`;

const WORKER = `
export const behaviour = "server";
export function init() { return { n: 0 }; }
export function handleCall(_r: unknown, _f: unknown, s: { n: number }) { return { reply: s.n, state: s }; }
`;

const WEB = `
import http from "node:http";
import { call } from "relup/runtime";
export const behaviour = "server";
const routes: Record<string, () => Promise<unknown>> = {
  "/journal": () => call("journal", { op: "read" }),
  "/watch": () => call("journal", { op: "watch", name: "loner" }),
  "/loner": () => call("loner", "bump"),
  "/b-port": () => call("worker_b", "port"),
};
export async function init(env: { port: number }) {
  const server = http.createServer(async (req, res) => {
    const route = routes[req.url ?? ""];
    if (!route) return void res.writeHead(404).end("null");
    try { res.writeHead(200).end(JSON.stringify(await route())); } catch (error) { res.writeHead(500).end(JSON.stringify(String(error))); }
  });
  await new Promise<void>((resolve) => server.listen(env.port, "127.0.0.1", () => resolve()));
  return { server };
}
export function handleCall(_r: unknown, _f: unknown, s: unknown) { return { reply: null, state: s }; }
export async function terminate(_reason: unknown, s: { server: http.Server }) { await new Promise((r) => s.server.close(r)); }
`;

const SUP = (children: string[]) => `
export const behaviour = "supervisor";
export function init(env: { port: number }) {
  return { children: [${children.join(", ")}] };
}
`;

const CHILD = {
  journal: `{ id: "journal", module: "journal", name: "journal" }`,
  web: `{ id: "web", module: "web", args: env }`,
  b: `{ id: "worker_b", module: "worker_b", name: "worker_b", modules: ["worker_b"] }`,
  w: `{ id: "w", module: "worker", name: "w", modules: ["worker"] }`,
  wHelper: `{ id: "w", module: "worker", name: "w", modules: ["worker", "helper"] }`,
};

const APP = (loner: boolean, configChange = "") => `
import { startServer, startSupervisor } from "relup/runtime";
export const behaviour = "application";
export async function start(env: { port: number }) {
  const top = await startSupervisor("sup", env);
  ${loner ? `await startServer("loner", {}, { name: "loner" });` : ""}
  return top;
}
${configChange}
`;
const THROWING_CONFIG_CHANGE = `export function configChange() { throw new Error("configChange refused"); }`;

async function project(dir: string, version: string, files: Record<string, string>, env: Record<string, unknown> = {}) {
  return writeProject(path.join(dir, `shop-${version}`), {
    config: { format: 1, name: "shop", version, applications: [{ name: "shop", version, start: "app", env: { port: 0, ...env } }] },
    files: Object.fromEntries(Object.entries(files).map(([name, source]) => [`apps/shop/${name}.ts`, source])),
  });
}

/** 1.0.0: journal, web and worker_b under `sup`, and `loner`, started by the application outside any supervisor. */
const V1 = { app: APP(true), sup: SUP([CHILD.journal, CHILD.web, CHILD.b]), journal: JOURNAL, web: WEB, worker_b: WORKER_B, loner: LONER };
/** 1.1.0: worker_b leaves `sup`, and the modules worker_b and loner are deleted. */
const V2 = { app: APP(false), sup: SUP([CHILD.journal, CHILD.web]), journal: JOURNAL, web: WEB };

async function leavingNode(v2: Record<string, string> = V2, env: Record<string, unknown> = {}) {
  const dir = await tempDir();
  const node = await liveNode({ dir, from: await project(dir, "1.0.0", V1), to: await project(dir, "1.1.0", v2, env), app: "shop" });
  const json = async (p: string) => JSON.parse(await get(node.port, p)) as unknown;
  await json("/watch");
  expect(await json("/loner")).toBe(1);
  const bPort = (await json("/b-port")) as number;
  expect(await connect(bPort)).toBe("b");
  return { ...node, json, bPort };
}

/** Connect to a TCP port: the line it answers, or "refused". */
function connect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    socket.on("data", (chunk) => (data += chunk.toString()));
    socket.on("end", () => resolve(data.trim()));
    socket.on("error", () => resolve("refused"));
  });
}

const processes = (root: string) => controlRequest(root, { cmd: "processes" });

describe("a module that leaves, and its processes", () => {
  it("a supervised child is stopped through its supervisor before its module goes (terminate runs); a process nobody stops is killed at the purge; apply reports it", async () => {
    const f = await leavingNode();
    const loner = (await processes(f.root)).find((p) => p.name === "loner")!;

    const dry = await applyRelease({ root: f.root, release: f.v2, dryRun: true, confirm: async () => true });
    expect(dry.check?.killed).toEqual([{ module: "shop/loner", processes: [{ pid: loner.pid, name: "loner", module: "shop/loner" }] }]);
    const cli = await relup(["apply", f.v2, "--root", f.root, "--dry-run", "--yes"]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`1 process will be killed at the purge (exit reason killed; links and monitors are told):\n  ${loner.pid} (loner) still runs shop/loner, which the plan removes\n`);
    expect((await controlRequest(f.root, { cmd: "status" })) as { release: { version: string } }).toMatchObject({ release: { version: "1.0.0" } });

    const result = await applyRelease({ root: f.root, release: f.v2, confirm: async () => true });
    expect(result.killed).toEqual([{ module: "shop/loner", processes: [{ pid: loner.pid, name: "loner", module: "shop/loner" }] }]);
    expect(await f.json("/journal")).toEqual(["terminate worker_b shutdown", "down loner killed"]);
    expect(await connect(f.bPort)).toBe("refused");
    const names = (await processes(f.root)).map((p) => p.name).filter(Boolean).sort();
    expect(names).toEqual(["journal"]);
    const status = (await controlRequest(f.root, { cmd: "status" })) as { modules: { module: string }[] };
    expect(status.modules.map((m) => m.module)).not.toContain("shop/worker_b");
    expect(status.modules.map((m) => m.module)).not.toContain("shop/loner");
  });

  it("a failure after the child was stopped puts it back running, and the process the purge would kill keeps its state", async () => {
    const f = await leavingNode({ ...V2, app: APP(false, THROWING_CONFIG_CHANGE) }, { mode: "fast" });
    const before = await processes(f.root);
    const error = await applyRelease({ root: f.root, release: f.v2, confirm: async () => true }).catch((e: Error) => e);
    expect((error as Error).message).toContain("configChange refused");
    const after = await processes(f.root);
    expect(after.find((p) => p.name === "loner")?.pid).toBe(before.find((p) => p.name === "loner")?.pid);
    expect(await f.json("/loner")).toBe(2);
    expect(after.find((p) => p.name === "worker_b")).toBeDefined();
    expect(await connect((await f.json("/b-port")) as number)).toBe("b");
    expect(await f.json("/journal")).toEqual(["terminate worker_b shutdown"]);
  });

  it("a soft purge that would find a process still running the module refuses the plan before step one, and --dry-run says so", async () => {
    const f = await leavingNode();
    const loner = (await processes(f.root)).find((p) => p.name === "loner")!;
    const plan = await planReleases({ from: f.v1, to: f.v2 });
    const up = plan.file.up.map((i) => (i.op === "remove" && i.module === "shop/loner" ? { ...i, postPurge: "soft_purge" as const } : i));
    const planFile = path.join(f.out, "relup.json");
    await writeFile(planFile, JSON.stringify({ ...plan.file, up }));
    for (const dryRun of [true, false]) {
      const error = await applyRelease({ root: f.root, release: f.v2, planFile, allowEditedPlan: true, dryRun, confirm: async () => true }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(RuntimeError);
      if (!(error instanceof RuntimeError)) throw error;
      expect(error.issue).toMatchObject({ kind: "old-processes", refusals: [{ module: "shop/loner", processes: [{ pid: loner.pid, name: "loner" }] }] });
      expect(exitCodeOf(error)).toBe(1);
      expect(error.message).toContain(`shop/loner`);
      expect(error.message).toContain(`${loner.pid} (loner)`);
      expect(error.message).toMatch(/soft_purge/);
      expect(error.message).toMatch(/Fix:/);
    }
    const cli = await relup(["apply", f.v2, "--root", f.root, "--plan", planFile, "--allow-edited-plan", "--dry-run"]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`step ${plan.file.up.findIndex((i) => i.op === "purge") + 1} would purge shop/loner with soft_purge while a process still runs it: ${loner.pid} (loner). Nothing was changed.`);
    expect(await f.json("/loner")).toBe(2);
    expect(await connect(f.bPort)).toBe("b");
    expect(await f.json("/journal")).toEqual([]);
    expect((await controlRequest(f.root, { cmd: "status" })) as { release: { version: string } }).toMatchObject({ release: { version: "1.0.0" } });
  });
});

describe("a child spec that keeps its id and lists new modules", () => {
  const base = { app: APP(false), journal: JOURNAL, web: WEB, worker: WORKER };
  const HELPER = `export const helps = true;`;

  async function specNode(v2env: Record<string, unknown> = {}, app = base.app) {
    const dir = await tempDir();
    const v1 = await project(dir, "1.0.0", { ...base, sup: SUP([CHILD.journal, CHILD.web, CHILD.w]) });
    const v2 = await project(dir, "1.1.0", { ...base, app, sup: SUP([CHILD.journal, CHILD.web, CHILD.wHelper]), helper: HELPER }, v2env);
    return liveNode({ dir, from: v1, to: v2, app: "shop" });
  }
  const w = async (root: string) => (await processes(root)).find((p) => p.name === "w")!;
  const helperUsers = async (root: string) => ((await controlRequest(root, { cmd: "status" })) as { modules: { module: string; processes: number }[] }).modules.find((m) => m.module === "shop/helper")?.processes;

  it("the running process's modules are refreshed (a later suspend of the new module finds it), and rollback restores them", async () => {
    const f = await specNode();
    const pid = (await w(f.root)).pid;
    await applyRelease({ root: f.root, release: f.v2, confirm: async () => true });
    expect(await w(f.root)).toMatchObject({ pid, modules: ["shop/worker", "shop/helper"] });
    expect(await helperUsers(f.root)).toBe(1);
    await controlRequest(f.root, { cmd: "rollback" });
    expect(await w(f.root)).toMatchObject({ pid, modules: ["shop/worker"] });
  });

  it("a failed install puts the old module list back", async () => {
    const f = await specNode({ mode: "fast" }, APP(false, THROWING_CONFIG_CHANGE));
    const pid = (await w(f.root)).pid;
    const error = await applyRelease({ root: f.root, release: f.v2, confirm: async () => true }).catch((e: Error) => e);
    expect((error as Error).message).toContain("configChange refused");
    expect(await w(f.root)).toMatchObject({ pid, modules: ["shop/worker"] });
  });
});
