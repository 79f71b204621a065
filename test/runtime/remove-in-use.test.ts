/**
 * `relup remove` of an old release whose directory the running node still reads modules from: the
 * modules no upgrade since has changed were loaded from it, and files they require or read later are
 * there. Refused (exit 1, naming the modules and both ways out) with nothing deleted; `--force` deletes
 * it and the node serves on from memory.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { getOnNewConnection } from "../../src/net-helpers.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const FIXTURES = path.resolve("fixtures");

describe("relup remove of a release the node still runs modules from", () => {
  it("is refused with the modules named and nothing deleted; --force deletes it and the node serves on", async () => {
    const n = await liveNode({ from: path.join(FIXTURES, "calculator", "1.0.0"), to: path.join(FIXTURES, "calculator", "1.1.0"), app: "calculator" });
    expect((await relup(["apply", n.v2, "--root", n.root, "--permanent", "--yes"])).code).toBe(0);
    const status = JSON.parse((await relup(["status", "--root", n.root, "--json"])).stdout) as { modules: { module: string; current: { release?: string } | null }[] };
    // calculator/calculator changed and was read from 1.1.0; every other module still runs 1.0.0's copy.
    const stillOld = status.modules.filter((m) => m.current?.release === "1.0.0").map((m) => m.module);
    expect(stillOld.length).toBeGreaterThan(0);
    expect(stillOld).not.toContain("calculator/calculator");

    const refused = await relup(["remove", "1.0.0", "--root", n.root]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`1.0.0 still serves ${stillOld.length} module`);
    expect(refused.stderr).toContain(stillOld[0]);
    expect(refused.stderr).toContain("--force");
    expect(existsSync(path.join(n.root, "releases", "1.0.0"))).toBe(true);
    expect(await readFile(path.join(n.root, "releases", "RELEASES"), "utf8")).toContain('"1.0.0"');

    expect(await relup(["remove", "1.0.0", "--root", n.root, "--force"])).toMatchObject({ code: 0, stdout: "removed 1.0.0\n" });
    expect(existsSync(path.join(n.root, "releases", "1.0.0"))).toBe(false);
    expect(await readFile(path.join(n.root, "releases", "RELEASES"), "utf8")).not.toContain('"1.0.0"');
    expect(await getOnNewConnection(n.port, "/calculate/2/3")).toBeTruthy();
  }, 60_000);
});
