/**
 * `relup start` when the node cannot boot because its port is taken: a user error (exit 2) that names
 * the port and the application, never an internal error with a stack; the detached launcher's own log
 * says why, and nothing is left running.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../src/net-helpers.ts";
import { relup, relupProcess } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();
let tarball: string;
let taken: net.Server;
let port: number;

let buildDir: string;

// Built once for the file (temp dirs from useTempDirs go after each test).
beforeAll(async () => {
  buildDir = await mkdtemp(path.join(os.tmpdir(), "relup-start-build-"));
  expect((await relup(["build", "fixtures/calculator/1.0.0", "--out", buildDir])).code).toBe(0);
  tarball = path.join(buildDir, "calculator-1.0.0.tar.gz");
});
afterAll(async () => {
  await rm(buildDir, { recursive: true, force: true });
});

afterEach(async () => {
  if (taken?.listening) await new Promise((resolve) => taken.close(resolve));
});

async function takePort(): Promise<number> {
  taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  port = (taken.address() as net.AddressInfo).port;
  return port;
}

function expectPortError(result: { code: number; stderr: string }, port: number) {
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(`application calculator cannot listen on 127.0.0.1:${port}: the address is already in use`);
  expect(result.stderr).toContain("Fix:");
  expect(result.stderr).not.toContain("internal error");
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

describe("relup start with the port taken", () => {
  it("--detach: exit 2 naming the port and the application; launcher.jsonl and launcher.out say why", async () => {
    const root = path.join(await tempDir(), "root");
    const result = await relup(["start", tarball, "--root", root, "--detach"], { PORT: String(await takePort()) });
    expectPortError(result, port);
    const events = (await readFile(path.join(root, "log", "launcher.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events).toContainEqual(expect.objectContaining({ event: "node failed to boot", application: "calculator", port, error: expect.stringContaining("already in use") }));
    expect(await readFile(path.join(root, "log", "launcher.out"), "utf8")).toContain(`cannot listen on 127.0.0.1:${port}`);
    expect(existsSync(path.join(root, "run", "launcher.pid"))).toBe(false);
  });

  it("in the foreground: the same user error", async () => {
    const root = path.join(await tempDir(), "root");
    // A foreground start owns its process (Ctrl-C, the exit): run as a real one. It also runs as on a
    // developer's checkout, without the tests' compiled copy of the sources: the node starts through tsx.
    expectPortError(await relupProcess(["start", tarball, "--root", root], { PORT: String(await takePort()), RELUP_COMPILED_SOURCES: "" }, 60_000), port);
  });
});

describe("relup start with a malformed config.json", () => {
  it("is bad input (exit 2) naming the file and the fix, and leaves nothing running", async () => {
    const root = path.join(await tempDir(), "root");
    const port = await freePort();
    expect((await relup(["start", tarball, "--root", root, "--detach"], { PORT: String(port) })).code).toBe(0);
    expect((await relup(["stop", "--root", root])).code).toBe(0);
    await writeFile(path.join(root, "config.json"), `{"calculator": {"port": ${port},}}`);
    const result = await relup(["start", "--root", root, "--detach"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(path.join(root, "config.json"));
    expect(result.stderr).toContain("Fix:");
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(root, "run", "launcher.pid"))).toBe(false);
  });
});

describe("relup start --initial", () => {
  it("installs the release on an empty root, and later starts boot the root's permanent release whatever its version", async () => {
    const root = path.join(await tempDir(), "root");
    const out = await tempDir();
    expect((await relup(["build", "fixtures/calculator/1.1.0", "--out", out])).code).toBe(0);
    const port = await freePort();
    const env = { PORT: String(port) };
    const first = await relup(["start", "--initial", tarball, "--root", root, "--detach"], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("installed calculator 1.0.0");
    try {
      expect((await relup(["apply", path.join(out, "calculator-1.1.0.tar.gz"), "--root", root, "--permanent", "--yes"])).code).toBe(0);
    } finally {
      expect((await relup(["stop", "--root", root])).code).toBe(0);
    }
    // The same command again: the root holds releases, so it boots its permanent one, 1.1.0.
    const again = await relup(["start", "--initial", tarball, "--root", root, "--detach"], env);
    try {
      expect(again.code).toBe(0);
      expect(again.stderr).toContain("started calculator 1.1.0");
      expect(again.stderr).not.toContain("installed calculator");
      expect(again.stderr).toContain("holds releases: booting its permanent one (--initial installs only into an empty root)");
    } finally {
      await relup(["stop", "--root", root]);
    }
    // Without --initial, naming a release the root does not boot is refused, as before.
    const named = await relup(["start", tarball, "--root", root, "--detach"], env);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain("1.1.0");
  });

  it("a release that cannot be read is refused with nothing left on disk, not even the root's directories", async () => {
    const parent = path.join(await tempDir(), "new");
    for (const args of [["/nonexistent/calculator-1.0.0.tar.gz"], ["--initial", "/nonexistent/calculator-1.0.0.tar.gz"]]) {
      const result = await relup(["start", ...args, "--root", path.join(parent, "root"), "--detach"]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("/nonexistent/calculator-1.0.0.tar.gz: not found");
      expect(existsSync(parent)).toBe(false);
    }
  });

  it("is refused together with a release argument (exit 2)", async () => {
    const result = await relup(["start", tarball, "--initial", tarball, "--root", await tempDir()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("mutually exclusive");
  });
});
