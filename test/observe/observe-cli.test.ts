/**
 * `relup observe --root R --port N` as a user runs it: the executable in a child process prints the
 * dashboard's URL, serves it until Ctrl-C (SIGINT) and exits 0; a root with no node, a bad port and a
 * port in use are refused before anything is served.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, get } from "../../src/net-helpers.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { BIN, relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const FIXTURES = path.resolve("fixtures");

describe("relup observe", () => {
  it("prints a tokened URL on 127.0.0.1 at the port given, serves the dashboard there, and stops on Ctrl-C", async () => {
    const n = await liveNode({ from: path.join(FIXTURES, "calculator", "1.0.0"), to: path.join(FIXTURES, "calculator", "1.1.0"), app: "calculator" });
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, "observe", "--root", n.root, "--port", String(port)], { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      let stderr = "";
      const said = new Promise<void>((resolve) =>
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString("utf8");
          if (stderr.includes("\n")) resolve();
        }),
      );
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString("utf8");
          if (out.includes("\n")) resolve(out.trim());
        });
        child.once("exit", () => reject(new Error(`relup observe ended before printing its URL: ${stderr}`)));
      });
      expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/[A-Za-z0-9_-]{43}/$`));
      await said;
      expect(stderr).toContain("observing calculator 1.0.0");
      expect(await get(port, new URL(url).pathname)).toContain("<title>relup observe</title>");
      const refused = await new Promise<number>((resolve, reject) => http.get({ host: "127.0.0.1", port, path: "/" }, (res) => resolve(res.statusCode!)).on("error", reject));
      expect(refused).toBe(403);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);

  it("refuses a root with no node, a port that is not one, and a port in use", async () => {
    const empty = await tempDir();
    const none = await relup(["observe", "--root", empty]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("control.sock");
    const bad = await relup(["observe", "--root", empty, "--port", "70000"]);
    expect(bad).toMatchObject({ code: 2, stdout: "" });
    expect(bad.stderr).toContain("--port 70000 is not a port");
    const word = await relup(["observe", "--root", empty, "--port", "abc"]);
    expect(word).toMatchObject({ code: 2, stdout: "" });
    expect(word.stderr).toContain("--port abc is not a port");
    const n = await liveNode({ from: path.join(FIXTURES, "calculator", "1.0.0"), to: path.join(FIXTURES, "calculator", "1.1.0"), app: "calculator" });
    const taken = await relup(["observe", "--root", n.root, "--port", String(n.port)]);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain(`--port ${n.port}: 127.0.0.1:${n.port} is already in use`);
  }, 60_000);
});
