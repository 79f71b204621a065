/**
 * A node refuses a request with `{ ok: false, issue }`: the issue is data (kind and fields), no exit code
 * travels; the client parses it as input and throws a RuntimeError with it, and the CLI entry alone chooses
 * the exit code. A real node, over its real socket.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planReleases } from "../../src/relup/plan-releases.ts";
import { controlRequest, controlSocketPath, rawRequest } from "../../src/runtime/control-client.ts";
import { ControlAnswer } from "../../src/runtime/control-protocol.ts";
import { RuntimeError } from "../../src/runtime/issues/runtime-error.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const FIXTURES = path.join(import.meta.dirname, "..", "..", "fixtures");

describe("control error answers carry a runtime issue", () => {
  it("a stale plan is refused with issue.kind stale-plan and the versions, as data; the CLI exits 1 with the words", async () => {
    const node = await liveNode({ from: path.join(FIXTURES, "counter", "1.0.0"), to: path.join(FIXTURES, "counter", "2.0.0"), app: "counter" });
    const plan = await planReleases({ from: node.v1, to: node.v2 });
    await controlRequest(node.root, { cmd: "unpack", source: node.v2 });
    const stale = { ...plan.file, from: { ...plan.file.from, version: "0.9.0" } };

    // The answer on the wire: an issue, and neither a message nor an exit code.
    const line = JSON.stringify({ id: 3, cmd: "check", version: "2.0.0", plan: stale });
    const raw = JSON.parse(await rawRequest(controlSocketPath(node.root), line, 10_000)) as Record<string, unknown>;
    expect(Object.keys(raw).sort()).toEqual(["id", "issue", "ok"]);
    expect(ControlAnswer.parse(raw)).toEqual({ id: 3, ok: false, issue: { kind: "stale-plan", plan: { from: "0.9.0", to: "2.0.0" }, running: "1.0.0", target: "2.0.0", mismatch: { what: "versions" } } });

    // The client throws it as a RuntimeError, with the formatter's words.
    const error = await controlRequest(node.root, { cmd: "install", version: "2.0.0", plan: stale }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).issue).toMatchObject({ kind: "stale-plan", plan: { from: "0.9.0", to: "2.0.0" }, running: "1.0.0", target: "2.0.0" });
    expect((error as RuntimeError).message).toBe(
      "node: stale plan: it goes between 0.9.0 and 2.0.0, but the node runs 1.0.0 and the target is 2.0.0. Fix: generate the plan between the running release and the target (relup generate <1.0.0 release> <2.0.0 release> -o plans/)",
    );

    // Another build of the running release: the identities, in full.
    const otherBuild = { ...plan.file, from: { ...plan.file.from, identity: "0".repeat(64) } };
    const build = (await controlRequest(node.root, { cmd: "check", version: "2.0.0", plan: otherBuild }).catch((e: unknown) => e)) as RuntimeError;
    expect(build.issue).toMatchObject({ kind: "stale-plan", mismatch: { what: "running-build", planned: "0".repeat(64), found: plan.file.from.identity } });

    const file = path.join(node.out, "stale.json");
    await writeFile(file, JSON.stringify(stale));
    const cli = await relup(["apply", node.v2, "--root", node.root, "--plan", file]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("stale plan: it goes between 0.9.0 and 2.0.0");
    expect(await controlRequest(node.root, { cmd: "status" })).toMatchObject({ release: { version: "1.0.0" } });
    // A command that answers nothing (remove, permanent): `{ ok: true }` with no result is an answer too.
    expect(await controlRequest(node.root, { cmd: "remove", version: "2.0.0" })).toBeUndefined();
  }, 60_000);

  it("a request the schema refuses answers with a bad-request issue naming the field; a refusal of the handler reaches the CLI in its words, exit 1", async () => {
    const node = await liveNode({ from: path.join(FIXTURES, "counter", "1.0.0"), to: path.join(FIXTURES, "counter", "2.0.0"), app: "counter" });
    const answer = ControlAnswer.parse(JSON.parse(await rawRequest(controlSocketPath(node.root), JSON.stringify({ id: 1, cmd: "remove", version: 7 }), 10_000)));
    expect(answer).toMatchObject({ id: 1, ok: false, issue: { kind: "bad-request", problems: [{ field: "version" }] } });
    const removed = await relup(["remove", "9.9.9", "--root", node.root]);
    expect(removed.code).toBe(1);
    expect(removed.stderr).toContain(`no release 9.9.9 in ${node.root}`);
  }, 60_000);

  it("an answer that is not the protocol's is refused as a bad-answer issue, not taken as a result", async () => {
    const root = await tempDir();
    await mkdir(path.join(root, "run"), { recursive: true, mode: 0o700 });
    const server = net.createServer((socket) => socket.on("data", () => socket.end(JSON.stringify({ ok: false, error: { code: "x", message: "old shape", exitCode: 2 } }) + "\n")));
    await new Promise<void>((resolve) => server.listen(controlSocketPath(root), resolve));
    try {
      const error = (await controlRequest(root, { cmd: "status" }).catch((e: unknown) => e)) as RuntimeError;
      expect(error).toBeInstanceOf(RuntimeError);
      expect(error.issue).toMatchObject({ kind: "bad-answer", root, cmd: "status" });
      expect(error.message).toContain("is not one of the control protocol");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await readFile(path.join(root, "run", "control.sock")).catch((e: NodeJS.ErrnoException) => e.code)).toBe("ENOENT");
  });
});
