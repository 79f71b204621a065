/**
 * `relup rollback` is an install like `apply`, on real nodes: it takes `--code-change-timeout` (the down
 * section of an upgrade whose migrations need longer than the plan says), reports the processes the down
 * section's purges kill (before with `--dry-run`, and after), and a node lost on the way is reported with
 * what became of it. The control client limits the node's silence, not the length of an install: a
 * migration slower than the client's limit succeeds while the node keeps writing keepalive lines.
 */
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { rollbackRelease } from "../../src/apply/rollback-release.ts";
import { controlRequest, rawRequest } from "../../src/runtime/control-client.ts";
import type { Ready } from "../../src/runtime/launcher.ts";
import { get } from "../../src/net-helpers.ts";
import { WORKERS, writeFleet } from "../helpers/fleet.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

/**
 * Version 2 of the fleet's worker. The migration of worker 2 takes `slowMs` (going up, and going down), or
 * on the way down loops synchronously (`down: "loop"`). Going up, it starts `loner`, a server that no
 * supervisor knows (and, started outside any process, linked to none), from a module only version 2
 * has: the down section's purge kills it.
 */
const worker = (options: { slowMs: number; down?: "loop" }) => `
import { startServer } from "relup/runtime";
export const behaviour = "server";
export const vsn = 2;
export function init(args: { id: number }) { return { id: args.id, count: 0, v: 2 }; }
export function handleCall(req: string, _from: unknown, state: any) {
  if (req === "code") return { reply: 2, state };
  if (req === "bump") return { reply: state.count + 1, state: { ...state, count: state.count + 1 } };
  return { reply: state, state };
}
export async function codeChange(old: unknown, state: any) {
  const next = old === 1 ? { ...state, v: 2 } : (({ v, ...rest }) => rest)(state);
  if (state.id !== 2) return next;
  if (old === 1) await startServer("loner", {}, { name: "loner" });
  ${options.down === "loop" ? `else for (;;) {}` : ""}
  return new Promise((resolve) => setTimeout(() => resolve(next), ${options.slowMs}));
}
`;
const LONER = `
export const behaviour = "server";
export function init() { return {}; }
export function handleCall(_r: unknown, _f: unknown, s: unknown) { return { reply: null, state: s }; }
`;

/** The plan gives the worker's migrations ten minutes, both ways. */
const APPUP = (() => {
  const update = { op: "update", module: "worker", change: { advanced: {} }, codeChangeTimeout: 600_000 };
  return { format: 1, application: "fleet", version: "2.0.0", up: [{ from: "1.0.0", instructions: [{ op: "add_module", module: "loner" }, update] }], down: [{ to: "1.0.0", instructions: [update, { op: "delete_module", module: "loner" }] }] };
})();

async function upgraded(spec: { slowMs: number; down?: "loop" }, launcher = {}) {
  const dir = await tempDir();
  const files = { "apps/fleet/loner.ts": LONER, "apps/fleet/appup.json": APPUP };
  const node = await liveNode({ dir, from: await writeFleet(dir, { version: "1.0.0" }), to: await writeFleet(dir, { version: "2.0.0", worker: worker(spec), extraFiles: files }), app: "fleet", launcher });
  const json = async (p: string) => JSON.parse(await get(node.port, p));
  await json("/bump");
  return { ...node, json };
}

const processes = async (root: string) => (await controlRequest(root, { cmd: "processes" })) as { pid: string; name: string | null; module: string }[];

describe("relup rollback", () => {
  it("--code-change-timeout reaches the down section (exit 1 when it expires, nothing changed); the processes its purge kills are reported, with --dry-run before", async () => {
    const f = await upgraded({ slowMs: 1_000 });
    await applyRelease({ root: f.root, release: f.v2, confirm: async () => true, codeChangeTimeout: 60_000 });
    const loner = (await processes(f.root)).find((p) => p.name === "loner")!;

    const short = await relup(["rollback", "--root", f.root, "--code-change-timeout", "300"]);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/code_change\) at module fleet\/worker, process <0\.\d+\.0> failed: .*did not settle within 300 ms; the install is rolled back/);
    expect(await f.json("/code")).toEqual(Array(WORKERS).fill(2));
    expect((await processes(f.root)).find((p) => p.name === "loner")?.pid).toBe(loner.pid);

    const killedLine = `1 process KILLED at the purge (exit reason killed; links and monitors are told):\n  ${loner.pid} (loner) still runs fleet/loner, which the plan removes\n`;
    const dry = await relup(["rollback", "--root", f.root, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("check passed: rollback 2.0.0 → 1.0.0");
    expect(dry.stdout).toContain(killedLine.replace("KILLED", "will be killed"));

    const r = await relup(["rollback", "--root", f.root, "--code-change-timeout", "60000"]);
    expect(r.stderr).toBe(r.stderr.replace(/did not settle/, ""));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(killedLine.replace("KILLED", "killed"));
    expect(r.stdout).toMatch(/rolled back 2\.0\.0 → 1\.0\.0 in \d+ ms/);
    expect(await f.json("/code")).toEqual(Array(WORKERS).fill(1));
    expect(await f.json("/bump")).toEqual(Array(WORKERS).fill(2));
    expect((await processes(f.root)).find((p) => p.name === "loner")).toBeUndefined();
  });

  it("a node lost during the rollback (a down migration that never returns) is reported with what became of it (exit 1)", async () => {
    const f = await upgraded({ slowMs: 10, down: "loop" }, { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 2_000 });
    await applyRelease({ root: f.root, release: f.v2, confirm: async () => true });
    const { processCount } = (await controlRequest(f.root, { cmd: "status" })) as { processCount: number };
    const restarted = new Promise<Ready>((resolve) => f.launcher.once("ready", resolve));
    const r = await relup(["rollback", "--root", f.root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`the node \\(pid ${f.ready.pid}\\) died while it rolled back 2\\.0\\.0 → 1\\.0\\.0, at step \\d+/\\d+ \\(code_change down fleet/worker\\): it stopped answering its launcher`));
    const again = await restarted;
    expect(r.stderr).toContain(`The node was restarted on the permanent release 1.0.0 (pid ${again.pid}), the release the rollback went to, but by a restart, not live; the in-memory state of ${processCount} processes was reset.`);
    expect(await f.json("/code")).toEqual(Array(WORKERS).fill(1));
  });
});

describe("the control client's limit on long requests", () => {
  it("is on the node's silence, not the install's length: migrations slower than the limit succeed, up and down", async () => {
    const f = await upgraded({ slowMs: 3_000 });
    // The node's own limits are "infinity"; the client's is a fraction of the migration's time.
    await applyRelease({ root: f.root, release: f.v2, confirm: async () => true, codeChangeTimeout: "infinity", silenceMs: 1_000 });
    expect(await f.json("/code")).toEqual(Array(WORKERS).fill(2));
    const back = await rollbackRelease({ root: f.root, codeChangeTimeout: "infinity", silenceMs: 1_000 });
    expect(back).toMatchObject({ dryRun: false, from: "2.0.0", to: "1.0.0" });
    expect(await f.json("/code")).toEqual(Array(WORKERS).fill(1));
  });

  it("a node that says nothing at all is given up on after the limit, never waited for forever", async () => {
    const dir = await tempDir();
    const socketPath = path.join(dir, "mute.sock");
    const server = net.createServer(() => {});
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const error = await rawRequest(socketPath, JSON.stringify({ cmd: "install" }), 200, undefined, { silence: true }).catch((e: Error) => e);
      expect((error as Error).message).toBe(`no word from ${socketPath} for 200 ms`);
    } finally {
      server.close();
    }
  });
});
