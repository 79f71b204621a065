/**
 * Every command of `relup --help`, run as a user runs it (the CLI's entry, runCli, in this process) with its
 * real positionals against real things: releases built from the calculator fixture and a node started
 * detached in a temporary root. The commands run here must be exactly the ones yargs knows, so a new
 * command without a run here fails this file.
 *
 * Also what converge-style deploys rerun: `apply` of the release already running and `stop` of a stopped
 * node say so and exit 0.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, get } from "../src/net-helpers.ts";
import { waitForExit } from "../src/runtime/process-exit.ts";
import { relup as run } from "./helpers/relup-cli.ts";
import { useDetachedLaunchers } from "./helpers/detached.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();

const detached = useDetachedLaunchers();

/** The commands this file ran, by name. */
const ran = new Set<string>();
function relup(args: string[], env: Record<string, string> = {}) {
  if (!args[0]!.startsWith("-")) ran.add(args[0]!);
  return run(args, env);
}

describe("every relup command, with its positionals", () => {
  it("init, build, inspect, generate, verify, keygen, sign, fleet, start, status, processes, unpack, apply, permanent, releases, rollback, remove, stop, observe: each runs, and no command is left out", async () => {
    const out = await tempDir();
    const root = path.join(await tempDir(), "root");
    detached.root(root);
    const v1 = path.join(out, "calculator-1.0.0.tar.gz");
    const v2 = path.join(out, "calculator-1.1.0.tar.gz");
    const plan = path.join(out, "relup.json");
    const env = { PORT: String(await freePort()) };

    const project = path.join(await tempDir(), "shop");
    expect(await relup(["init", project])).toMatchObject({ code: 0, stdout: expect.stringContaining("apps/shop/store.ts") });
    expect(existsSync(path.join(project, "relup.config.json"))).toBe(true);
    expect(await relup(["init", project])).toMatchObject({ code: 2, stderr: expect.stringContaining("overwrites nothing") });
    expect(await relup(["build", "fixtures/calculator/1.0.0", "--out", out])).toMatchObject({ code: 0, stdout: expect.stringContaining("built calculator 1.0.0") });
    expect((await relup(["build", "fixtures/calculator/1.1.0", "--out", out])).code).toBe(0);
    expect(await relup(["inspect", v1])).toMatchObject({ code: 0, stdout: expect.stringContaining("verified calculator 1.0.0") });
    expect((await relup(["generate", v1, v2, "-o", plan])).code).toBe(0);
    expect(JSON.parse(await readFile(plan, "utf8"))).toMatchObject({ from: { version: "1.0.0" }, to: { version: "1.1.0" } });
    expect(await relup(["verify", v1, v2])).toMatchObject({ code: 0 });
    const keys = path.join(await tempDir(), "keys");
    expect(await relup(["keygen", "--out", keys])).toMatchObject({ code: 0, stdout: expect.stringContaining("relup-release.key") });
    expect(await relup(["sign", v2, "--key", path.join(keys, "relup-release.key")])).toMatchObject({ code: 0, stdout: expect.stringContaining(`${v2}.sig.json`) });
    const store = path.join(await tempDir(), "store");
    expect(await relup(["fleet", "publish", v2, "--store", `file://${store}`, "--trusted-key", path.join(keys, "relup-release.pub")])).toMatchObject({ code: 0, stdout: expect.stringContaining("published calculator 1.1.0") });

    const started = await relup(["start", v1, "--root", root, "--detach"], env);
    expect(started).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\n$/) });
    const nodePid = Number(started.stdout.trim());
    expect(await get(Number(env.PORT), "/calculate/2/2")).toBe("4");
    expect(await relup(["status", "--root", root])).toMatchObject({ code: 0, stdout: expect.stringContaining(`calculator 1.0.0 running in ${root}`) });
    expect(await relup(["processes", "--root", root])).toMatchObject({ code: 0, stdout: expect.stringContaining("calculator/http_server") });
    // Pids are numbers inside the node and print as they always did.
    expect(await relup(["processes", "--root", root])).toMatchObject({ stdout: expect.stringMatching(/^<0\.[1-9][0-9]*\.0> +\S/m) });

    expect(await relup(["unpack", v2, "--root", root])).toMatchObject({ code: 0, stdout: "unpacked 1.1.0\n" });
    expect(await relup(["apply", v2, "--root", root, "--plan", plan])).toMatchObject({ code: 0, stdout: expect.stringContaining("upgraded 1.0.0 → 1.1.0") });
    expect(await get(Number(env.PORT), "/calculate/2/2")).toBe("8");
    // A converge-style deploy runs the same command again: nothing to do, and it says so.
    expect(await relup(["apply", v2, "--root", root, "--plan", plan])).toMatchObject({ code: 0, stdout: `no changes: calculator 1.1.0 is already running in ${root}\n` });
    expect(await relup(["apply", "1.1.0", "--root", root, "--permanent"])).toMatchObject({ code: 0, stdout: `no changes: calculator 1.1.0 is already running in ${root}; made it permanent\n` });
    expect(await relup(["permanent", "1.1.0", "--root", root])).toMatchObject({ code: 0, stdout: "1.1.0 is permanent\n", stderr: "" });
    expect(await relup(["releases", "--root", root])).toMatchObject({ code: 0, stdout: expect.stringMatching(/calculator 1\.0\.0 +old\ncalculator 1\.1\.0 +permanent/) });

    expect(await relup(["rollback", "--root", root])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^rolled back 1\.1\.0 → 1\.0\.0 in \d+ ms\n$/) });
    expect(await get(Number(env.PORT), "/calculate/2/2")).toBe("4");
    expect(await relup(["remove", "1.1.0", "--root", root])).toMatchObject({ code: 0, stdout: "removed 1.1.0\n", stderr: "" });
    expect(await relup(["releases", "--root", root, "--json"])).toMatchObject({ code: 0, stdout: expect.not.stringContaining("1.1.0") });

    expect(await relup(["stop", "--root", root])).toMatchObject({ code: 0, stdout: `stopped calculator 1.0.0 (node pid ${nodePid})\n` });
    expect(await waitForExit(nodePid)).toBe(true);
    // Stopping what is already stopped: said, and a success.
    expect(await relup(["stop", "--root", root])).toMatchObject({ code: 0, stdout: `calculator is not running in ${root}: nothing to stop\n` });
    // A stopped root's releases are read from its RELEASES file; commands that need the node say how to start it.
    expect(await relup(["releases", "--root", root])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^calculator 1\.0\.0 +permanent\n$/), stderr: expect.stringContaining("no node is running in this root") });
    expect(await relup(["status", "--root", root])).toMatchObject({ code: 1, stderr: expect.stringContaining(`Fix: start it with \`relup start --root ${root}\``) });
    // observe serves until Ctrl-C (test/observe/observe-cli.test.ts runs it in a process); with no node it says so at once.
    expect(await relup(["observe", "--root", root])).toMatchObject({ code: 1, stdout: "", stderr: expect.stringContaining(`Fix: start it with \`relup start --root ${root}\``) });

    const help = await relup(["--help"]);
    const commands = [...help.stdout.matchAll(/^ {2}relup ([\w-]+)/gm)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(10);
    expect([...ran].sort()).toEqual([...commands].sort());
  }, 180_000);

  it("`relup stop` while the launcher keeps restarting a node that cannot boot: the launcher is stopped too, so nothing comes back", async () => {
    const out = await tempDir();
    const root = path.join(await tempDir(), "root");
    detached.root(root);
    expect((await relup(["build", "fixtures/calculator/1.0.0", "--out", out])).code).toBe(0);
    const port = await freePort();
    const started = await relup(["start", path.join(out, "calculator-1.0.0.tar.gz"), "--root", root, "--detach"], { PORT: String(port) });
    expect(started.code).toBe(0);
    const launcherPid = Number((await readFile(path.join(root, "run", "launcher.pid"), "utf8")).trim());
    // The node dies and another process takes its port: every restart fails to boot.
    const nodePid = Number(started.stdout.trim());
    process.kill(nodePid, "SIGKILL");
    await waitForExit(nodePid);
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
    try {
      const stopped = await relup(["stop", "--root", root]);
      expect(stopped).toMatchObject({ code: 0, stdout: `calculator is not running in ${root}; stopped its launcher (pid ${launcherPid}), which was restarting it\n` });
      expect(await waitForExit(launcherPid, 10_000)).toBe(true);
      expect(existsSync(path.join(root, "run", "launcher.pid"))).toBe(false);
    } finally {
      taken.close();
    }
  });

  it("`relup stop` of a root that holds no release is bad input (a wrong --root), exit 2", async () => {
    const root = path.join(await tempDir(), "nothing-here");
    const result = await relup(["stop", "--root", root]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${root}: holds no release`);
    expect(result.stderr).toContain("Fix:");
  });
});
