/**
 * A plan over the control socket's 1 MiB request limit: refused before it is sent, as bad input (exit 2),
 * with the request's size, the limit and what to do; a raw request that long gets the same advice from
 * the node, which keeps serving. Before, the only word was "request over 1048576 bytes", with exit 1.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { controlRequest, controlSocketPath, rawRequest } from "../../src/runtime/control-client.ts";
import { runtimeExitCode } from "../../src/cli/exit-code.ts";
import { ControlAnswer, MAX_REQUEST_BYTES } from "../../src/runtime/control-protocol.ts";
import { formatRuntimeIssue } from "../../src/runtime/issues/format-runtime-issue.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const FIXTURES = path.join(import.meta.dirname, "..", "..", "fixtures");

describe("a plan over the control request limit", () => {
  it("relup apply --plan with a 1.2 MB code_change extra exits 2 with the size, the limit and the fix; the node is as before", async () => {
    const node = await liveNode({ from: path.join(FIXTURES, "counter", "1.0.0"), to: path.join(FIXTURES, "counter", "2.0.0"), app: "counter" });
    const generated = path.join(node.out, "relup.json");
    expect((await relup(["generate", node.v1, node.v2, "-o", generated])).code).toBe(0);
    const text = await readFile(generated, "utf8");
    expect(text).toContain('"extra": {}');
    const plan = path.join(node.out, "big.json");
    await writeFile(plan, text.replace('"extra": {}', `"extra": { "table": "${"x".repeat(1_200_000)}" }`));

    const applied = await relup(["apply", node.v2, "--root", node.root, "--plan", plan, "--allow-edited-plan"]);
    expect(applied.code).toBe(2);
    expect(applied.stderr).toMatch(/the (check|install) request \(version 2\.0\.0, a plan of \d+ steps\) is \d{7} bytes, over the control socket's limit of 1048576 bytes/);
    expect(applied.stderr).toContain("Fix: keep each code_change `extra` small");
    // The note that the plan was edited names the step; it does not reprint the 1.2 MB extra.
    expect(applied.stderr).toMatch(/is not the plan `relup generate` makes for these releases:\n  up: first differs at step \d+: the plan has code_change up counter\/\S+ .*… \(\d{7} characters\)/);
    expect(applied.stderr.length).toBeLessThan(5_000);
    const status = await controlRequest(node.root, { cmd: "status" });
    expect(status.release.version).toBe("1.0.0");
    expect(await relup(["releases", "--root", node.root])).toMatchObject({ code: 0, stdout: expect.not.stringContaining("2.0.0") });
  });

  it("a raw request over 1 MiB gets the advice and exit code 2 from the node, which keeps serving", async () => {
    const node = await liveNode({ from: path.join(FIXTURES, "counter", "1.0.0"), to: path.join(FIXTURES, "counter", "2.0.0"), app: "counter" });
    const line = `{"cmd":"ping","pad":"${"x".repeat(MAX_REQUEST_BYTES + 10)}"}`;
    const answer = ControlAnswer.parse(JSON.parse(await rawRequest(controlSocketPath(node.root), line, 10_000)));
    expect(answer).toMatchObject({ ok: false, issue: { kind: "request-too-large", request: "the request" } });
    if (answer.ok) throw new Error("the node accepted the request");
    expect(runtimeExitCode(answer.issue)).toBe(2);
    expect(formatRuntimeIssue(answer.issue)).toContain(`over the control socket's limit of ${MAX_REQUEST_BYTES} bytes`);
    expect(formatRuntimeIssue(answer.issue)).toContain("Fix:");
    expect(await controlRequest(node.root, { cmd: "ping" })).toBe("pong");
  });
});
