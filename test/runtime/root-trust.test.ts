/**
 * A release root another user could write is refused: `relup start` exits 2 naming the path, what was
 * found (mode, owner, a symbolic link) and the fix, and writes nothing (no release unpacked, nothing
 * written through a planted link). A root too long for the control socket's address is refused up front.
 */
import { closeSync, existsSync, writeSync } from "node:fs";
import { execFile } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile, readFile } from "node:fs/promises";
import { promisify } from "node:util";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/net-helpers.ts";
import { Launcher } from "../../src/runtime/launcher.ts";
import { APPEND_NOFOLLOW, checkRootTrust, openNoFollow } from "../../src/runtime/root-trust.ts";
import { relup, shellRelupArgv } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
let buildDir: string;
let tarball: string;

beforeAll(async () => {
  buildDir = await mkdtemp(path.join(os.tmpdir(), "relup-trust-build-"));
  expect((await relup(["build", "fixtures/calculator/1.0.0", "--out", buildDir])).code).toBe(0);
  tarball = path.join(buildDir, "calculator-1.0.0.tar.gz");
});
afterAll(async () => {
  await rm(buildDir, { recursive: true, force: true });
});

function expectRefused(result: { code: number; stderr: string }) {
  expect(result.code).toBe(2);
  expect(result.stderr).not.toContain("internal error");
  expect(result.stderr).toContain("Fix:");
}

const isRoot = process.getuid?.() === 0;

describe("relup start refuses a root it cannot trust", () => {
  it("a world-writable root (0777): exit 2 naming the path, the mode and chmod go-w; nothing unpacked", async () => {
    const root = path.join(await tempDir(), "root");
    await mkdir(root);
    await chmod(root, 0o777);
    const result = await relup(["start", tarball, "--root", root, "--detach"], {}, 60_000);
    expectRefused(result);
    expect(result.stderr).toContain(`${root}: has mode 0777`);
    expect(result.stderr).toContain(`chmod go-w ${root}`);
    expect(await readdir(root)).toEqual([]);
  });

  it("a group-writable releases/ (0775): refused, naming releases/", async () => {
    const root = path.join(await tempDir(), "root");
    await mkdir(path.join(root, "releases"), { recursive: true });
    await chmod(path.join(root, "releases"), 0o775);
    const result = await relup(["start", tarball, "--root", root, "--detach"], {}, 60_000);
    expectRefused(result);
    expect(result.stderr).toContain(`${path.join(root, "releases")}: has mode 0775, writable by its group`);
    expect(await readdir(path.join(root, "releases"))).toEqual([]);
  });

  it.runIf(isRoot)("a root owned by another user (uid 12345): exit 2 naming the owner and chown", async () => {
    const root = path.join(await tempDir(), "root");
    await mkdir(root, { mode: 0o755 });
    await chown(root, 12345, 12345);
    const result = await relup(["start", tarball, "--root", root, "--detach"], {}, 60_000);
    expectRefused(result);
    expect(result.stderr).toContain(`${root}: is owned by uid 12345, not by the user running relup (uid 0)`);
    expect(result.stderr).toContain(`chown 0 ${root}`);
    expect(await readdir(root)).toEqual([]);
  });

  it("run/ planted as a symbolic link to another directory: refused, nothing written through it", async () => {
    const dir = await tempDir();
    const root = path.join(dir, "root");
    const elsewhere = path.join(dir, "elsewhere");
    await mkdir(root);
    await mkdir(elsewhere);
    await symlink(elsewhere, path.join(root, "run"));
    const result = await relup(["start", tarball, "--root", root, "--detach"], {}, 60_000);
    expectRefused(result);
    expect(result.stderr).toContain(`${path.join(root, "run")}: is a symbolic link`);
    expect(await readdir(elsewhere)).toEqual([]);
    expect(existsSync(path.join(root, "releases"))).toBe(false);
  });

  it("a root path of 120 characters: exit 2 naming the socket path and a shorter --root, nothing created", async () => {
    const dir = await tempDir();
    const root = path.join(dir, "r".repeat(120 - dir.length - 1));
    expect(root.length).toBe(120);
    const result = await relup(["start", tarball, "--root", root, "--detach"], {}, 60_000);
    expectRefused(result);
    expect(result.stderr).toContain(`the control socket path ${path.join(root, "run", "control.sock")} is`);
    expect(result.stderr).toContain("shorter --root");
    expect(existsSync(root)).toBe(false);
  });

  it("relup status refuses a world-writable run/ rather than trusting its socket", async () => {
    const root = path.join(await tempDir(), "root");
    await mkdir(path.join(root, "run"), { recursive: true });
    await chmod(path.join(root, "run"), 0o777);
    const result = await relup(["status", "--root", root], {}, 30_000);
    expectRefused(result);
    expect(result.stderr).toContain(`${path.join(root, "run")}: has mode 0777`);
  });

  it.runIf(isRoot)("relup releases refuses a releases/ owned by another user rather than listing its RELEASES", async () => {
    const root = path.join(await tempDir(), "root");
    await mkdir(path.join(root, "releases"), { recursive: true, mode: 0o755 });
    await writeFile(path.join(root, "releases", "RELEASES"), JSON.stringify({ format: 1, name: "forged", releases: [] }));
    await chown(path.join(root, "releases"), 12345, 12345);
    const result = await relup(["releases", "--root", root], {}, 30_000);
    expectRefused(result);
    expect(result.stderr).toContain(`${path.join(root, "releases")}: is owned by uid 12345`);
    expect(result.stdout).not.toContain("forged");
  });

  it("relup stop refuses a run/ writable by others rather than signalling the pid in its launcher.pid", async () => {
    const root = path.join(await tempDir(), "root");
    await mkdir(path.join(root, "run"), { recursive: true, mode: 0o700 });
    await writeFile(path.join(root, "run", "launcher.pid"), "1\n");
    await chmod(path.join(root, "run"), 0o757);
    const result = await relup(["stop", "--root", root], {}, 30_000);
    expectRefused(result);
    expect(result.stderr).toContain(`${path.join(root, "run")}: has mode 0757, writable by others`);
  });
});

describe("a root relup creates", () => {
  it("passes its own check under a umask of 0002", async () => {
    const root = path.join(await tempDir(), "root");
    const command = `umask 002 && exec ${shellRelupArgv().map((arg) => JSON.stringify(arg)).join(" ")} start ${JSON.stringify(tarball)} --root ${JSON.stringify(root)} --detach`;
    await promisify(execFile)("sh", ["-c", command], { env: { ...process.env, NO_COLOR: "1", PORT: String(await freePort()) }, timeout: 60_000 });
    try {
      expect(checkRootTrust(root)).toEqual([]);
      expect((await stat(root)).mode & 0o777).toBe(0o755);
      expect((await stat(path.join(root, "releases"))).mode & 0o777).toBe(0o755);
      expect((await stat(path.join(root, "run"))).mode & 0o777).toBe(0o700);
      expect((await relup(["status", "--root", root], {}, 30_000)).code).toBe(0);
    } finally {
      expect((await relup(["stop", "--root", root], {}, 60_000)).code).toBe(0);
    }
  });
});

describe("files relup writes", () => {
  it("run/launcher.pid planted as a symbolic link: start refuses it, the file it points to is untouched", async () => {
    const dir = await tempDir();
    const root = path.join(dir, "root");
    const victim = path.join(dir, "victim");
    await mkdir(path.join(root, "run"), { recursive: true, mode: 0o700 });
    await writeFile(victim, "precious\n");
    await symlink(victim, path.join(root, "run", "launcher.pid"));
    const result = await relup(["start", tarball, "--root", root, "--detach"], {}, 60_000);
    expectRefused(result);
    expect(result.stderr).toContain(`${path.join(root, "run", "launcher.pid")}: is a symbolic link`);
    expect(await readFile(victim, "utf8")).toBe("precious\n");
    expect(existsSync(path.join(root, "releases"))).toBe(false);
  });
});

describe("the launcher", () => {
  it("refuses a log/ planted as a symbolic link, writing nothing through it", async () => {
    const dir = await tempDir();
    const root = path.join(dir, "root");
    const elsewhere = path.join(dir, "elsewhere");
    await mkdir(root);
    await mkdir(elsewhere);
    await symlink(elsewhere, path.join(root, "log"));
    await expect(new Launcher({ root }).start()).rejects.toThrow(`${path.join(root, "log")}: is a symbolic link`);
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it("does not append to a log file planted as a symbolic link", async () => {
    const dir = await tempDir();
    const root = path.join(dir, "root");
    const victim = path.join(dir, "victim");
    await mkdir(path.join(root, "log"), { recursive: true });
    await writeFile(victim, "precious\n");
    await symlink(victim, path.join(root, "log", "launcher.jsonl"));
    await expect(new Launcher({ root }).start()).rejects.toThrow(`${path.join(root, "log", "launcher.jsonl")}: is a symbolic link`);
    expect(await readFile(victim, "utf8")).toBe("precious\n");
  });

  it("opens its files without following a link (O_NOFOLLOW), even one planted after the check", async () => {
    const dir = await tempDir();
    const victim = path.join(dir, "victim");
    await writeFile(victim, "precious\n");
    await symlink(victim, path.join(dir, "launcher.jsonl"));
    expect(() => openNoFollow(path.join(dir, "launcher.jsonl"), APPEND_NOFOLLOW)).toThrow(`${path.join(dir, "launcher.jsonl")}: is a symbolic link`);
    const fd = openNoFollow(path.join(dir, "node.jsonl"), APPEND_NOFOLLOW);
    writeSync(fd, "line\n");
    closeSync(fd);
    expect(await readFile(path.join(dir, "node.jsonl"), "utf8")).toBe("line\n");
    expect(await readFile(victim, "utf8")).toBe("precious\n");
  });

  it("a fresh temp root is trusted", async () => {
    expect(checkRootTrust(await tempDir())).toEqual([]);
  });
});
