/**
 * `npm test`'s pretest step (scripts/ensure-test-packages.mjs), run as the real script in a child process,
 * with a PATH of the test's making: a stand-in `apt-get` that installs stand-in `etcd` and `chromium`, so
 * the install path runs for real without touching the machine.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "./helpers/temp-dir.ts";

const SCRIPT = path.join(import.meta.dirname, "..", "scripts", "ensure-test-packages.mjs");
const BOTH = "apt-get update && apt-get install -y etcd-server chromium";

function pretest(env: Record<string, string>, uid?: number) {
  const result = spawnSync(process.execPath, [SCRIPT], { env: { HOME: "/", ...env }, encoding: "utf8", ...(uid !== undefined ? { uid, gid: uid } : {}) });
  return { code: result.status, stderr: result.stderr };
}

async function binDir(dir: string, programs: string[]): Promise<string> {
  const bin = path.join(dir, "bin");
  await mkdir(bin, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  for (const program of programs) await writeFile(path.join(bin, program), "#!/bin/sh\n", { mode: 0o755 });
  return bin;
}

/** A directory for PATH holding an `apt-get` that logs its arguments and, on install, writes the programs of the packages named. */
async function fakeAptDir(dir: string, present: string[] = []): Promise<string> {
  const bin = await binDir(dir, present);
  await writeFile(
    path.join(bin, "apt-get"),
    `#!${process.execPath}
const fs = require("node:fs");
fs.appendFileSync(${JSON.stringify(path.join(dir, "apt.log"))}, process.argv.slice(2).join(" ") + "\\n");
const programs = { "etcd-server": "etcd", chromium: "chromium" };
if (process.argv[2] === "install") for (const pkg of process.argv.slice(4)) fs.writeFileSync(${JSON.stringify(bin)} + "/" + programs[pkg], "#!/bin/sh\\n", { mode: 0o755 });
`,
    { mode: 0o755 },
  );
  return bin;
}

describe("the pretest step that provides etcd and chromium", () => {
  const tempDir = useTempDirs();

  it("does nothing when both are on PATH", async () => {
    expect(pretest({ PATH: await binDir(await tempDir(), ["etcd", "chromium"]) })).toEqual({ code: 0, stderr: "" });
  });

  it("as root with apt-get, installs what is missing, in one apt-get run", async () => {
    const dir = await tempDir();
    const result = pretest({ PATH: await fakeAptDir(dir) });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`installing Debian's etcd-server and chromium: ${BOTH}`);
    expect(await readFile(path.join(dir, "apt.log"), "utf8")).toBe("update\ninstall -y etcd-server chromium\n");

    const onlyChromium = await tempDir();
    expect(pretest({ PATH: await fakeAptDir(onlyChromium, ["etcd"]) }).code).toBe(0);
    expect(await readFile(path.join(onlyChromium, "apt.log"), "utf8")).toBe("update\ninstall -y chromium\n");
  });

  it("without apt-get, stops with the exact install command", async () => {
    const result = pretest({ PATH: await binDir(await tempDir(), []) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("apt-get is not available");
    expect(result.stderr).toContain(`sudo sh -c '${BOTH}'`);
  });

  it("as another user than root, stops with the exact install command and installs nothing", async () => {
    const dir = await tempDir();
    const result = pretest({ PATH: await fakeAptDir(dir, ["chromium"]) }, 65534);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("not running as root");
    expect(result.stderr).toContain("sudo sh -c 'apt-get update && apt-get install -y etcd-server'");
    expect(existsSync(path.join(dir, "apt.log"))).toBe(false);
  });

  it("refuses a RELUP_ETCD or RELUP_CHROMIUM that is not an executable; a valid one counts as found", async () => {
    const dir = await tempDir();
    const etcd = pretest({ PATH: "/nonexistent", RELUP_ETCD: path.join(dir, "etcd") });
    expect(etcd.code).toBe(1);
    expect(etcd.stderr).toContain("RELUP_ETCD=");
    const chromium = pretest({ PATH: "/nonexistent", RELUP_CHROMIUM: path.join(dir, "chromium") });
    expect(chromium.code).toBe(1);
    expect(chromium.stderr).toContain("RELUP_CHROMIUM=");
    const bin = await binDir(dir, ["etcd", "chromium"]);
    expect(pretest({ PATH: "/nonexistent", RELUP_ETCD: path.join(bin, "etcd"), RELUP_CHROMIUM: path.join(bin, "chromium") })).toEqual({ code: 0, stderr: "" });
  });
});
