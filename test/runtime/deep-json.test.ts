/**
 * JSON nested deeper than relup reads (MAX_JSON_DEPTH) is bad input wherever it comes from: a plan given
 * to `relup apply`, a release project's env, a built release's app.json, a control request. Before the
 * bound, zod overflowed the stack on such input ("internal error"), and the node never answered the
 * request and had an unhandled rejection.
 */
import { createHash } from "node:crypto";
import { cp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../src/release/json-depth.ts";
import { runtimeExitCode } from "../../src/cli/exit-code.ts";
import { controlRequest, controlSocketPath, rawRequest } from "../../src/runtime/control-client.ts";
import { ControlAnswer } from "../../src/runtime/control-protocol.ts";
import { formatRuntimeIssue } from "../../src/runtime/issues/format-runtime-issue.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const FIXTURES = path.join(import.meta.dirname, "..", "..", "fixtures");

/** `{"a":{"a":…1…}}`, `levels` objects deep, as text (JSON.stringify would overflow the stack on it). */
const nested = (levels: number) => '{"a":'.repeat(levels) + "1" + "}".repeat(levels);

describe("deep JSON", () => {
  it("relup apply --plan with a code_change extra nested 20,000 levels exits 2 with a message, and the node is as before", async () => {
    const node = await liveNode({ from: path.join(FIXTURES, "counter", "1.0.0"), to: path.join(FIXTURES, "counter", "2.0.0"), app: "counter" });
    const plan = path.join(node.out, "deep.json");
    const generated = await relup(["generate", node.v1, node.v2, "-o", path.join(node.out, "relup.json")]);
    expect(generated.code).toBe(0);
    const text = await readFile(path.join(node.out, "relup.json"), "utf8");
    expect(text).toContain('"extra": {}');
    await writeFile(plan, text.replace('"extra": {}', `"extra": ${nested(20_000)}`));

    const applied = await relup(["apply", node.v2, "--root", node.root, "--plan", plan]);
    expect(applied.code).toBe(2);
    expect(applied.stderr).toContain(plan);
    expect(applied.stderr).toContain(`more than ${MAX_JSON_DEPTH} levels`);
    expect(applied.stderr).toMatch(/up\[\d+\]\.modules\[0\]\.extra/);
    expect(applied.stderr).toContain("Fix: flatten");
    expect(applied.stderr).not.toMatch(/internal error|Maximum call stack/);
    const status = (await controlRequest(node.root, { cmd: "status" })) as { release: { version: string } };
    expect(status.release.version).toBe("1.0.0");
    expect(await relup(["releases", "--root", node.root])).toMatchObject({ code: 0, stdout: expect.not.stringContaining("2.0.0") });
  });

  it("a control request with a field nested 20,000 levels gets an error answer, and the node keeps serving", async () => {
    const node = await liveNode({ from: path.join(FIXTURES, "counter", "1.0.0"), to: path.join(FIXTURES, "counter", "2.0.0"), app: "counter" });
    const generated = await relup(["generate", node.v1, node.v2, "-o", path.join(node.out, "relup.json")]);
    expect(generated.code).toBe(0);
    // One line, with the deep value where the schema takes any JSON: zod walked it, and overflowed.
    const plan = JSON.stringify(JSON.parse(await readFile(path.join(node.out, "relup.json"), "utf8")));
    expect(plan).toContain('"extra":{}');
    const line = `{"id":7,"cmd":"check","version":"2.0.0","plan":${plan.replace('"extra":{}', `"extra":${nested(20_000)}`)}}`;
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    try {
      const answer = ControlAnswer.parse(JSON.parse(await rawRequest(controlSocketPath(node.root), line, 10_000)));
      expect(answer).toMatchObject({ id: 7, ok: false, issue: { kind: "request-too-deep", limit: MAX_JSON_DEPTH + 2, planLimit: MAX_JSON_DEPTH } });
      expect(answer).not.toHaveProperty("exitCode");
      if (answer.ok) throw new Error("the node accepted the request");
      expect(runtimeExitCode(answer.issue)).toBe(2);
      const message = formatRuntimeIssue(answer.issue);
      expect(message).toContain(`more than ${MAX_JSON_DEPTH + 2} levels`);
      expect(message).toMatch(/plan\.up\.\d+\.modules\.0\.extra/);
      expect(await controlRequest(node.root, { cmd: "ping" })).toBe("pong");
      expect(node.launcher.nodePid).toBeDefined();
    } finally {
      process.off("unhandledRejection", onRejection);
    }
    expect(rejections).toEqual([]);
  });

  it("relup build of a project whose env is nested 50,000 levels exits 2 naming relup.config.json", async () => {
    const dir = await tempDir();
    await cp(path.join(FIXTURES, "calculator", "1.0.0"), dir, { recursive: true });
    const config = await readFile(path.join(dir, "relup.config.json"), "utf8");
    await writeFile(path.join(dir, "relup.config.json"), config.replace('"env": { "port": 4000 }', `"env": { "port": ${nested(50_000)} }`));
    const built = await relup(["build", dir, "--out", path.join(dir, "_build")]);
    expect(built.code).toBe(2);
    expect(built.stderr).toContain("relup.config.json");
    expect(built.stderr).toContain("applications[0].env.port");
    expect(built.stderr).toContain(`more than ${MAX_JSON_DEPTH} levels`);
    expect(built.stderr).not.toMatch(/internal error|Maximum call stack/);
  });

  it("relup generate from a release whose app.json env is nested 50,000 levels exits 2 naming app.json", async () => {
    const dir = await tempDir();
    const out = path.join(dir, "_build");
    expect((await relup(["build", path.join(FIXTURES, "calculator", "1.0.0"), "--out", out])).code).toBe(0);
    expect((await relup(["build", path.join(FIXTURES, "calculator", "1.1.0"), "--out", out])).code).toBe(0);
    const appJson = path.join(out, "calculator-1.1.0", "lib", "calculator-1.1.0", "app.json");
    const app = await readFile(appJson, "utf8");
    const deep = app.replace(/"env": \{[^}]*\}/, `"env": { "port": ${nested(50_000)} }`);
    await writeFile(appJson, deep);
    // A release made by hand (or another tool) whose checksums match: app.json is read, and must be refused.
    const releaseJson = path.join(out, "calculator-1.1.0", "release.json");
    const sha = (text: string) => createHash("sha256").update(text).digest("hex");
    await writeFile(releaseJson, (await readFile(releaseJson, "utf8")).replace(sha(app), sha(deep)));
    const generated = await relup(["generate", path.join(out, "calculator-1.0.0"), path.join(out, "calculator-1.1.0")]);
    expect(generated.code).toBe(2);
    expect(generated.stderr).toContain("app.json");
    expect(generated.stderr).toContain(`more than ${MAX_JSON_DEPTH} levels`);
    expect(generated.stderr).not.toMatch(/internal error|Maximum call stack/);
  });

  it("relup generate --check against a committed relup.json nested 20,000 levels exits 2 naming it", async () => {
    const dir = await tempDir();
    const out = path.join(dir, "_build");
    expect((await relup(["build", path.join(FIXTURES, "counter", "1.0.0"), "--out", out])).code).toBe(0);
    expect((await relup(["build", path.join(FIXTURES, "counter", "2.0.0"), "--out", out])).code).toBe(0);
    const [v1, v2] = [path.join(out, "counter-1.0.0"), path.join(out, "counter-2.0.0")];
    const committed = path.join(dir, "relup.json");
    expect((await relup(["generate", v1, v2, "-o", committed])).code).toBe(0);
    await writeFile(committed, (await readFile(committed, "utf8")).replace('"extra": {}', `"extra": ${nested(20_000)}`));
    const checked = await relup(["generate", v1, v2, "-o", committed, "--check"]);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain(committed);
    expect(checked.stderr).toContain(`more than ${MAX_JSON_DEPTH} levels`);
    expect(checked.stderr).not.toMatch(/internal error|Maximum call stack/);
  });
});
