/**
 * Every npm fixture pair applied on a live node under HTTP load, up with the generated plan and back
 * down with `rollback`: no request fails, and the route answers right before, after and back.
 * A package change upgrades hot (the modules that import the package are reloaded from the new release,
 * the node's OS pid stays, a server's state is kept), except for a package with a native addon or one
 * the project lists under `npm.restart`: that plan restarts the node, needs `allowRestart`, names the
 * package, and hands the listening socket over.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { planReleases } from "../../src/relup/plan-releases.ts";
import { renderPlanText } from "../../src/relup/render/render-text.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { Ready } from "../../src/runtime/launcher.ts";
import { getOnNewConnection } from "../../src/net-helpers.ts";
import { useHttpLoad } from "../helpers/http-load.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const httpLoad = useHttpLoad();

/** How many answers the load must get before the upgrade, after it, and after the rollback. */
const ANSWERS = 20;

type LiveNode = Awaited<ReturnType<typeof liveNode>>;

const node = (fixture: string, app: string) => liveNode({ from: path.join("fixtures", fixture, "1.0.0"), to: path.join("fixtures", fixture, "1.1.0"), app });

async function status(root: string): Promise<{ pid: number; release: { version: string } }> {
  return (await controlRequest(root, { cmd: "status" })) as { pid: number; release: { version: string } };
}

/**
 * Runs `run`, a restart: resolves with the node it booted once the node it replaced has exited (it drains
 * its open connections first; it accepts no new one once the successor is ready).
 */
async function restarting(n: LiveNode, run: () => Promise<unknown>): Promise<Ready> {
  const ready = new Promise<Ready>((resolve) => n.launcher.once("ready", resolve));
  const replaced = new Promise<void>((resolve) => n.launcher.once("replaced-exit", () => resolve()));
  await run();
  const next = await ready;
  await replaced;
  return next;
}

const hot: [fixture: string, app: string, route: string, before: string, after: string][] = [
  ["npm-dependency", "labels", "/label/abc", "abc", "abc"],
  ["npm-transitive", "prices", "/price/1250", "$  12.50", "$   12.50"],
  ["npm-added-removed", "labels", "/label/abc", "abc", "ABC"],
];

describe("npm package changes upgrade hot, under load", () => {
  it.each(hot)("%s 1.0.0 → 1.1.0 → back: the plan reloads modules (no restart), the same OS process answers, 0 failed requests", async (fixture, app, route, before, after) => {
    const n = await node(fixture, app);
    const plan = await planReleases({ from: n.v1, to: n.v2 });
    expect([...plan.file.up, ...plan.file.down].map((i) => i.op)).not.toContain("restart_new_emulator");
    expect(await getOnNewConnection(n.port, route)).toBe(before);

    const load = httpLoad({ port: n.port, path: route, accepts: (body) => body === before || body === after });
    await load.answers(ANSWERS);
    await applyRelease({ root: n.root, release: n.v2, confirm: async () => true });
    await load.answers(ANSWERS);
    expect(await getOnNewConnection(n.port, route)).toBe(after);
    expect(await controlRequest(n.root, { cmd: "releases" })).toEqual([
      { name: fixture, version: "1.0.0", status: "permanent" },
      { name: fixture, version: "1.1.0", status: "current" },
    ]);

    await controlRequest(n.root, { cmd: "rollback" });
    await load.answers(ANSWERS);
    const counts = await load.stop();
    expect(counts.failures).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(await getOnNewConnection(n.port, route)).toBe(before);
    expect(await status(n.root)).toMatchObject({ pid: n.ready.pid, release: { version: "1.0.0" } });
  });

  it("npm-dependency: the history server keeps its count through the upgrade and the rollback; the padder it holds stays 1.0.0's and works, a padder made now is 1.1.0's", async () => {
    const n = await node("npm-dependency", "labels");
    const answer = (route: string) => getOnNewConnection(n.port, route);
    for (let i = 0; i < 3; i++) expect(await answer("/label/abc")).toBe("abc");
    expect(await answer("/history")).toBe("3");
    expect([await answer("/padder/old"), await answer("/padder/new")]).toEqual(["1.0.0", "1.0.0"]);

    // Every answered label was counted first: a count below the answers so far means the state was lost.
    const load = httpLoad({ port: n.port, path: "/label/abc", accepts: (body) => body === "abc" });
    await load.answers(ANSWERS);
    await applyRelease({ root: n.root, release: n.v2, confirm: async () => true });
    await load.answers(ANSWERS);
    const answeredUp = load.counts().answered;
    expect(Number(await answer("/history"))).toBeGreaterThanOrEqual(3 + answeredUp);
    expect(await answer("/padder/old")).toBe("1.0.0");
    expect(await answer("/padder/new")).toBe("1.1.0");
    // The modules that reach tiny-pad were read from the new release; the others still run the old one's.
    const modules = ((await controlRequest(n.root, { cmd: "status" })) as { modules: { module: string; current: { release?: string } | null; old: { release?: string } | null }[] }).modules;
    const from = (m: string) => modules.find((x) => x.module === m);
    expect(from("labels/label")).toMatchObject({ current: { release: "1.1.0" }, old: { release: "1.0.0" } });
    expect(from("labels/history")).toMatchObject({ current: { release: "1.1.0" }, old: { release: "1.0.0" } });
    expect(from("labels/http_server")).toMatchObject({ current: { release: "1.0.0" }, old: null });

    await controlRequest(n.root, { cmd: "rollback" });
    await load.answers(ANSWERS);
    const counts = await load.stop();
    expect(counts.failures).toEqual([]);
    // Stopped: the count is exactly the labels answered since the node started.
    expect(await answer("/history")).toBe(String(3 + counts.answered));
    expect([await answer("/padder/old"), await answer("/padder/new")]).toEqual(["1.0.0", "1.0.0"]);
    expect(await status(n.root)).toMatchObject({ pid: n.ready.pid, release: { version: "1.0.0" } });
  });
});

const restarts: [fixture: string, app: string, route: string, before: string, after: string, pkg: string, why: string][] = [
  ["npm-native", "digests", "/checksum/abc", "440920331 (tiny-native 1.0.0)", "440920331 (tiny-native 1.1.0)", "tiny-native", "it builds a native addon (binding.gyp)"],
  ["npm-restart-listed", "labels", "/label/abc", "abc", "abc", "tiny-pad", "relup.config.json of both releases lists it under npm.restart"],
];

describe("npm packages that cannot be reloaded in place restart the node, under load", () => {
  it.each(restarts)("%s 1.0.0 → 1.1.0 → back: the plan restarts the node and names the package, apply needs allowRestart, 0 failed requests", async (fixture, app, route, before, after, pkg, why) => {
    const n = await node(fixture, app);
    const plan = await planReleases({ from: n.v1, to: n.v2 });
    expect(plan.file.up.map((i) => i.op)).toContain("restart_new_emulator");
    expect(plan.file.down.map((i) => i.op)).toContain("restart_new_emulator");
    expect(renderPlanText(plan)).toContain(`npm package \`${pkg}\` changes 1.0.0 → 1.1.0: ${why}`);
    expect(await getOnNewConnection(n.port, route)).toBe(before);

    const refused = (await applyRelease({ root: n.root, release: n.v2, confirm: async () => true }).catch((e: unknown) => e)) as Error & { exitCode?: number };
    expect(refused).toBeInstanceOf(Error);
    expect(refused.exitCode).toBe(1);
    expect(refused.message).toContain(`npm package \`${pkg}\` changes 1.0.0 → 1.1.0: ${why}`);
    expect(refused.message).toContain("--allow-restart");
    expect(await status(n.root)).toMatchObject({ pid: n.ready.pid, release: { version: "1.0.0" } });

    const load = httpLoad({ port: n.port, path: route, accepts: (body) => body === before || body === after });
    await load.answers(ANSWERS);
    const next = await restarting(n, async () => {
      await applyRelease({ root: n.root, release: n.v2, allowRestart: true, confirm: async () => true });
      // Once apply returns, every new connection reaches the new node, while the replaced one drains.
      for (let i = 0; i < 100; i++) expect(await getOnNewConnection(n.port, route)).toBe(after);
    });
    expect(next).toMatchObject({ version: "1.1.0" });
    expect(next.pid).not.toBe(n.ready.pid);
    await load.answers(ANSWERS);
    expect(await getOnNewConnection(n.port, route)).toBe(after);
    expect(await controlRequest(n.root, { cmd: "releases" })).toEqual([
      { name: fixture, version: "1.0.0", status: "permanent" },
      { name: fixture, version: "1.1.0", status: "current" },
    ]);

    const back = await restarting(n, () => controlRequest(n.root, { cmd: "rollback" }));
    expect(back).toMatchObject({ version: "1.0.0" });
    await load.answers(ANSWERS);
    const counts = await load.stop();
    expect(counts.failures).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(await getOnNewConnection(n.port, route)).toBe(before);
    expect(await status(n.root)).toMatchObject({ pid: back.pid, release: { version: "1.0.0" } });
  });
});
