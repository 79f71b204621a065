/**
 * A node in this process: boot calculator 1.0.0 from its built tarball, query it over real HTTP, then
 * load calculator 1.1.0's `calculator` module through the library API: the router, which is not
 * reloaded, answers with the new code at once, from the same HTTP listener.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildRelease } from "../../src/release/build-release.ts";
import { readRelease } from "../../src/release/read-release.ts";
import { Node } from "../../src/runtime/node.ts";
import { freePort, get } from "../../src/net-helpers.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const nodes: Node[] = [];
afterEach(async () => {
  for (const node of nodes.splice(0)) await node.stop();
});

async function bootCalculator() {
  const out = await tempDir();
  const v1 = await buildRelease({ dir: "fixtures/calculator/1.0.0", out });
  const v2 = await buildRelease({ dir: "fixtures/calculator/1.1.0", out });
  const root = await tempDir();
  const dir1 = (await readRelease(v1.tarball, { into: path.join(root, "1.0.0") })).dir;
  const next = await readRelease(v2.tarball, { into: path.join(root, "1.1.0") });
  const port = await freePort();
  const node = new Node({ releaseDir: dir1, config: { calculator: { port } } });
  nodes.push(node);
  await node.boot();
  return { node, port, next };
}

describe("a node running calculator", () => {
  it("boots 1.0.0 from its tarball: GET /calculate/2/2 answers 4, the listener owned by a server process", async () => {
    const { node, port } = await bootCalculator();
    expect(await get(port, "/calculate/2/2")).toBe("4");
    expect(node.controller.list()).toEqual([expect.objectContaining({ name: "calculator", status: "running" })]);
    expect(node.runtime.processesUsing("calculator/router").map((p) => p.module)).toEqual(["calculator/http_server"]);
  });

  it("late binding: after loading the new `calculator` module, the unchanged router answers 8 from the same listener", async () => {
    const { node, port, next } = await bootCalculator();
    const server = node.runtime.processesUsing("calculator/http_server")[0]!;
    node.table.load(node.readObjectCode(next.dir, next.apps, "calculator/calculator"));
    expect(await get(port, "/calculate/2/2")).toBe("8");
    expect(node.runtime.processesUsing("calculator/http_server")[0]).toBe(server);
    expect(node.status().modules.find((m) => m.module === "calculator/calculator")).toMatchObject({ current: { vsn: expect.any(String) }, old: { active: 0 } });
  });

  it("stop stops the application and closes its listener", async () => {
    const { node, port } = await bootCalculator();
    await node.stop();
    nodes.splice(0);
    await expect(get(port, "/calculate/2/2")).rejects.toThrow();
    expect(node.runtime.processes()).toEqual([]);
  });
});
