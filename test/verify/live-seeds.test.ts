/**
 * `relup verify --live` seeds the generated states with values taken from the node's states: a
 * codeChange that loses one particular session id passes with random keys, but the generated runs find
 * it (and shrink it to that one session) once the node holds that id. The live copies are still checked
 * one by one as before.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { get } from "../../src/net-helpers.ts";
import { collectSeeds } from "../../src/verify/live-seeds.ts";
import { verifyReleases } from "../../src/verify/verify-releases.ts";
import type { ZodLike } from "../../src/verify/zod-arbitrary.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { writeProject } from "../helpers/project.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

const config = (version: string) => ({ format: 1, name: "web", version, applications: [{ name: "web", version, start: "app", env: { port: 0 } }] });

const COMMON = {
  "apps/web/app.ts": `import { startSupervisor } from "relup/runtime";
export const behaviour = "application";
export function start(env: { port: number }) { return startSupervisor("web/sup", { port: env.port }); }
`,
  "apps/web/sup.ts": `export const behaviour = "supervisor";
export function init(args: { port: number }) {
  return { strategy: "one_for_one", intensity: 3, period: 5, children: [
    { id: "sessions", module: "sessions", name: "sessions", args: {}, modules: ["sessions"] },
    { id: "http", module: "http_server", args: { port: args.port }, modules: ["http_server"] },
  ] };
}
`,
  "apps/web/http_server.ts": `import http from "node:http";
import { call } from "relup/runtime";
export const behaviour = "server";
/** GET /login/:id?user= opens a session in the sessions server. */
export async function init(args: { port: number }) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const id = /^\\/login\\/([A-Za-z0-9-]+)$/.exec(url.pathname)?.[1];
    if (!id) return void res.writeHead(404).end();
    const answer = await call("sessions", { op: "login", id, user: url.searchParams.get("user") ?? "" });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? args.port), "127.0.0.1", () => resolve()));
  return { server };
}
export function handleCall(_r: unknown, _f: unknown, state: unknown) { return { reply: null, state }; }
`,
};

const SESSIONS_V1 = `import { z } from "relup/runtime";
export const behaviour = "server";
export const vsn = 1;
export const stateSchema = z.object({ sessions: z.map(z.string(), z.object({ user: z.string(), since: z.int().min(0) })) });
type State = z.infer<typeof stateSchema>;
export function init(): State { return { sessions: new Map() }; }
export function handleCall(r: { op: "login"; id: string; user: string }, _f: unknown, state: State) {
  state.sessions.set(r.id, { user: r.user, since: 1700000000000 });
  return { reply: "ok", state };
}
`;

/** vsn 2 adds roles to each session; its migration skips the load tester's session id, losing it. */
const SESSIONS_V2 = `import { z } from "relup/runtime";
export const behaviour = "server";
export const vsn = 2;
const Session = z.object({ user: z.string(), since: z.int().min(0), roles: z.array(z.string()) });
export const stateSchema = z.object({ sessions: z.map(z.string(), Session) });
type State = z.infer<typeof stateSchema>;
export function init(): State { return { sessions: new Map() }; }
export function handleCall(r: { op: "login"; id: string; user: string }, _f: unknown, state: State) {
  state.sessions.set(r.id, { user: r.user, since: 1700000000000, roles: [] });
  return { reply: "ok", state };
}
/** Sessions the load tester opened; they are not users. */
const SYNTHETIC = ["sess-7f3a9c"];
export function codeChange(oldVsn: unknown, state: any) {
  if (oldVsn === 1) return { sessions: new Map([...state.sessions].filter(([id]) => !SYNTHETIC.includes(id)).map(([id, s]) => [id, { ...s, roles: [] }])) };
  return { sessions: new Map([...state.sessions].map(([id, { roles, ...s }]) => [id, s])) };
}
`;

async function sessionsProject(): Promise<{ from: string; to: string; dir: string }> {
  const dir = await tempDir();
  const from = await writeProject(path.join(dir, "v1"), { config: config("1.0.0"), files: { ...COMMON, "apps/web/sessions.ts": SESSIONS_V1 } });
  const to = await writeProject(path.join(dir, "v2"), { config: config("1.1.0"), files: { ...COMMON, "apps/web/sessions.ts": SESSIONS_V2 } });
  return { from, to, dir };
}

describe("verify --live seeds the generated states with live values", () => {
  it("finds, in the generated runs, a codeChange that loses one session id the node holds, and shrinks it to that session", async () => {
    const project = await sessionsProject();
    const node = await liveNode({ ...project, app: "web" });

    // Random keys never hit the one id the migration loses: generated-only verification passes.
    const generated = await verifyReleases({ from: node.v1, to: node.v2, runs: 200, seed: 42 });
    expect(generated.modules.find((m) => m.module === "web/sessions")).toMatchObject({ status: "verified", runs: { upAndBack: 200, down: 200 } });

    for (const [id, user] of [["sess-1a2b3c", "ann"], ["sess-7f3a9c", "load-tester"], ["sess-9d8e7f", "cy"]]) {
      expect(await get(node.port, `/login/${id}?user=${user}`)).toBe('"ok"');
    }
    const report = await verifyReleases({ from: node.v1, to: node.v2, runs: 200, seed: 42, live: { root: node.root } });
    expect(report.mode).toBe("live");
    const sessions = report.modules.find((m) => m.module === "web/sessions")!;
    expect(sessions).toMatchObject({ status: "failed", runs: { live: 1, down: 200 } });
    // The node's own state fails, as before...
    expect(sessions.failures.find((f) => f.property === "live")).toMatchObject({ check: "round-trip", name: "sessions", difference: { path: '.sessions<"sess-7f3a9c">' } });
    // ...and so do the generated states, shrunk to the one session that matters.
    const found = sessions.failures.find((f) => f.property === "up-and-back");
    expect(found).toMatchObject({
      check: "round-trip",
      direction: "down",
      seed: 42,
      counterexample: "{ sessions: Map(1) { 'sess-7f3a9c' => { user: '', since: 0 } } }",
      difference: { path: '.sessions<"sess-7f3a9c">', actual: "(absent)" },
    });
    expect(found!.shrinks).toBeGreaterThan(0);

    // The CLI takes --seed with --live and prints the generated failure with its replay command.
    const cli = await relup(["verify", node.v1, node.v2, "--live", "--root", node.root, "--seed", "42", "--runs", "200", "--format", "text"]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain("state: a state of the old version, migrated up and back down (shrunk in");
    expect(cli.stdout).toContain("{ sessions: Map(1) { 'sess-7f3a9c' => { user: '', since: 0 } } }");
    expect(cli.stdout).toContain(`--live --root ${node.root} --seed 42 --runs 200`);
  });
});

describe("collectSeeds", () => {
  it("files each value under its place in the schema, as the generator names it, and pools them all", () => {
    const schema = z.object({
      sessions: z.map(z.string(), z.object({ user: z.string(), tags: z.array(z.string()).optional() })),
      byName: z.record(z.string(), z.union([z.int(), z.null()])),
      at: z.date(),
    }) as unknown as ZodLike;
    const state = { sessions: new Map([["s-1", { user: "ann", tags: ["x"] }]]), byName: { bob: 3, cy: null }, at: new Date(5) };
    const seeds = collectSeeds(schema, [state, state]);
    expect(Object.fromEntries(seeds.at)).toEqual({
      "stateSchema.sessions<key>": ["s-1"],
      "stateSchema.sessions<value>.user": ["ann"],
      "stateSchema.sessions<value>.tags[]": ["x"],
      "stateSchema.byName<key>": ["bob", "cy"],
      "stateSchema.byName[<key>]": [3],
      "stateSchema.at": [new Date(5)],
    });
    expect(seeds.pool).toEqual(["s-1", "ann", "x", "bob", 3, "cy", new Date(5)]);
  });
});
