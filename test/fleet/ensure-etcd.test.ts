/**
 * `npm test`'s pretest step (scripts/ensure-etcd.mjs), run as the real script in a child process, with a
 * PATH of the test's making: a stand-in `apt-get` that installs a stand-in `etcd`, so the install path
 * runs for real without touching the machine.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../helpers/temp-dir.ts";

const SCRIPT = path.join(import.meta.dirname, "..", "..", "scripts", "ensure-etcd.mjs");
const INSTALL = "apt-get update && apt-get install -y etcd-server";

function pretest(env: Record<string, string>, uid?: number) {
  const result = spawnSync(process.execPath, [SCRIPT], { env: { HOME: "/", ...env }, encoding: "utf8", ...(uid !== undefined ? { uid, gid: uid } : {}) });
  return { code: result.status, stderr: result.stderr };
}

/** A directory for PATH holding an `apt-get` that logs its arguments and, on install, writes an `etcd`. */
async function fakeAptDir(dir: string): Promise<string> {
  const bin = path.join(dir, "bin");
  await mkdir(bin, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  await writeFile(
    path.join(bin, "apt-get"),
    `#!${process.execPath}
const fs = require("node:fs");
fs.appendFileSync(${JSON.stringify(path.join(dir, "apt.log"))}, process.argv.slice(2).join(" ") + "\\n");
if (process.argv[2] === "install") fs.writeFileSync(${JSON.stringify(path.join(bin, "etcd"))}, "#!/bin/sh\\n", { mode: 0o755 });
`,
    { mode: 0o755 },
  );
  return bin;
}

describe("the pretest step that provides etcd", () => {
  const tempDir = useTempDirs();

  it("does nothing when etcd is on PATH", async () => {
    const bin = path.join(await tempDir(), "bin");
    await mkdir(bin);
    await writeFile(path.join(bin, "etcd"), "#!/bin/sh\n", { mode: 0o755 });
    expect(pretest({ PATH: bin })).toEqual({ code: 0, stderr: "" });
  });

  it("as root with apt-get, installs etcd-server", async () => {
    const dir = await tempDir();
    const bin = await fakeAptDir(dir);
    const result = pretest({ PATH: bin });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`installing Debian's etcd-server: ${INSTALL}`);
    expect(await readFile(path.join(dir, "apt.log"), "utf8")).toBe("update\ninstall -y etcd-server\n");
  });

  it("without apt-get, stops with the exact install command", async () => {
    const bin = path.join(await tempDir(), "bin");
    await mkdir(bin);
    const result = pretest({ PATH: bin });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("apt-get is not available");
    expect(result.stderr).toContain(`sudo sh -c '${INSTALL}'`);
  });

  it("as another user than root, stops with the exact install command and installs nothing", async () => {
    const dir = await tempDir();
    const bin = await fakeAptDir(dir);
    const result = pretest({ PATH: bin }, 65534);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("not running as root");
    expect(result.stderr).toContain(`sudo sh -c '${INSTALL}'`);
    expect(existsSync(path.join(dir, "apt.log"))).toBe(false);
  });

  it("refuses a RELUP_ETCD that is not an executable", async () => {
    const result = pretest({ PATH: "/nonexistent", RELUP_ETCD: path.join(await tempDir(), "etcd") });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("RELUP_ETCD=");
    expect(result.stderr).toContain(INSTALL);
  });
});
