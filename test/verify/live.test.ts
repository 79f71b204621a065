/**
 * `relup verify --live` against a real node: the states the plan would migrate are copied out of the
 * running node over the control socket and migrated in the verify worker. Every state that would fail
 * is reported, and the node's own processes are untouched: their states are the same before and after,
 * and the node keeps answering with them.
 */
import { describe, expect, it } from "vitest";
import { get } from "../../src/net-helpers.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import { verifyReleases } from "../../src/verify/verify-releases.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

describe("relup verify --live", () => {
  it("reports the live state that would crash the upgrade, and leaves the node's states as they were", async () => {
    const node = await liveNode({ from: "fixtures/migration-bug/1.0.0", to: "fixtures/migration-bug/1.1.0", app: "contacts" });
    expect(await get(node.port, `/save/ann?name=Ann&email=Ann@Example.org`)).toBe('"ok"');
    expect(await get(node.port, `/save/bob?name=Bob`)).toBe('"ok"');
    const states = () => controlRequest(node.root, { cmd: "states", modules: ["contacts/book"] });
    const before = await states();

    const report = await verifyReleases({ from: node.v1, to: node.v2, live: { root: node.root } });
    expect(report.mode).toBe("live");
    const [book] = report.modules;
    expect(book).toMatchObject({ module: "contacts/book", status: "failed", runs: { live: 1 } });
    expect(book!.failures.filter((f) => f.property === "live")).toEqual([
      expect.objectContaining({
        property: "live",
        check: "throws",
        direction: "up",
        name: "book",
        message: "codeChange threw TypeError: Cannot read properties of undefined (reading 'toLowerCase')",
        counterexample: "{\n  contacts: Map(2) { 'ann' => { name: 'Ann', email: 'Ann@Example.org' }, 'bob' => { name: 'Bob' } }\n}",
      }),
    ]);

    expect(await states()).toEqual(before);
    expect(await get(node.port, `/contact/bob`)).toBe('{"name":"Bob"}');
    expect(((await controlRequest(node.root, { cmd: "status" })) as { release: { version: string } }).release.version).toBe("1.0.0");
  });

  it("the CLI verifies a healthy counter live with only the target release given, and refuses a node that runs another release", async () => {
    const node = await liveNode({ from: "fixtures/counter/1.0.0", to: "fixtures/counter/2.0.0", app: "counter" });
    for (const key of ["a", "b", "a"]) await get(node.port, `/count/${key}`);

    const ok = await relup(["verify", node.v2, "--live", "--root", node.root, "--format", "json"]);
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report).toMatchObject({ mode: "live", from: "1.0.0", to: "2.0.0", uncopyable: [] });
    expect(report.modules).toEqual([expect.objectContaining({ module: "counter/counter", status: "verified", runs: { upAndBack: 1000, up: 0, down: 1000, live: 1 }, failures: [] })]);
    expect(await get(node.port, `/peek/a`)).toBe("2");
    // A state that holds a live object (the HTTP server's) is reported, not copied.
    const copies = (await controlRequest(node.root, { cmd: "states", modules: ["counter/http_server"] })) as { processes: { module: string; error?: string; state?: string }[] };
    expect(copies.processes).toEqual([expect.objectContaining({ module: "counter/http_server", error: expect.stringMatching(/^its state cannot be copied: .*could not be cloned/) })]);

    const other = await liveNode({ from: "fixtures/migration-bug/1.0.0", to: "fixtures/migration-bug/1.1.0", app: "contacts" });
    const refused = await relup(["verify", other.v1, other.v2, "--live", "--root", node.root]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("the node runs counter 1.0.0, not migration-bug 1.0.0");
  });
});
