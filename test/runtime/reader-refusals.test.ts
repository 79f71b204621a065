/**
 * A real node whose release reader prepares its installs: a module that does not compile is refused as
 * it always was (the load_object_code step fails before the point of no return, nothing changed), and
 * the node's threads do not multiply over many installs (test/runtime/release-reader.test.ts covers the
 * reader's thread itself).
 */
import { appendFile, cp, readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { generatePlan } from "../../src/relup/generate-plan.ts";
import { loadReleaseModel } from "../../src/relup/load-release-model.ts";
import { get } from "../../src/net-helpers.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { RuntimeError } from "../../src/runtime/issues/runtime-error.ts";
import { releaseDirOf } from "../../src/runtime/releases-file.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { replaceModule } from "../helpers/replace-module.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

const calculator = () => liveNode({ from: "fixtures/calculator/1.0.0", to: "fixtures/calculator/1.1.0", app: "calculator" });

describe("installs prepared by the release reader", () => {
  it("a module that does not compile fails the load_object_code step, before the point of no return, as before; nothing changed", async () => {
    const node = await calculator();
    await controlRequest(node.root, { cmd: "unpack", source: node.v2 });
    const target = releaseDirOf(node.root, "1.1.0");
    await replaceModule(target, { name: "calculator", version: "1.1.0" }, "calculator", "exports.calculate = (a, b) => ;\n");
    const generated = generatePlan(await loadReleaseModel(releaseDirOf(node.root, "1.0.0")), await loadReleaseModel(target));
    if (!generated.ok) throw new Error("no plan");
    const plan = generated.value.file;
    const before = (await controlRequest(node.root, { cmd: "status" })) as { modules: unknown[] };

    const checked = (await controlRequest(node.root, { cmd: "check", version: "1.1.0", plan }).catch((e: unknown) => e)) as RuntimeError;
    expect(checked.issue).toEqual({ kind: "node-failed", message: "calculator/calculator: does not compile: Unexpected token ';'" });

    const failed = (await controlRequest(node.root, { cmd: "install", version: "1.1.0", plan }).catch((e: unknown) => e)) as RuntimeError;
    expect(failed.issue).toMatchObject({ kind: "install-failed", op: "load_object_code", module: "calculator/calculator", cause: "calculator/calculator: does not compile: Unexpected token ';'", phase: "before-point-of-no-return", killed: [], rollbackFailures: [] });

    expect(await controlRequest(node.root, { cmd: "status" })).toMatchObject({ release: { version: "1.0.0" }, modules: before.modules });
    expect(await get(node.port, "/calculate/2/2")).toBe("4");
  });

  it("a release with a large module is prepared in the node's reader thread, and upgrades as any other", async () => {
    const dir = await tempDir();
    const to = path.join(dir, "1.1.0");
    await cp("fixtures/calculator/1.1.0", to, { recursive: true });
    // 4,000 exported functions: about 500 KB of compiled module, over the reader's 256 KiB.
    const big = Array.from({ length: 4000 }, (_, i) => `export function f${i}(a: number): number[] { return [a * ${i}, a + ${i}, ${i}]; }`).join("\n");
    await appendFile(path.join(to, "apps/calculator/calculator.ts"), `\n${big}\n`);
    const node = await liveNode({ dir, from: "fixtures/calculator/1.0.0", to, app: "calculator" });
    const threads = async () => (await readdir(`/proc/${node.ready.pid}/task`)).length;
    const before = await threads();
    await applyRelease({ root: node.root, release: node.v2, confirm: async () => true });
    expect(await get(node.port, "/calculate/2/2")).toBe("8");
    // The reader's thread is still running (it ends after 60 s without a job).
    expect(await threads()).toBeGreaterThan(before);
    await controlRequest(node.root, { cmd: "rollback" });
    expect(await get(node.port, "/calculate/2/2")).toBe("4");
  });

  it("the node's threads do not grow over many installs and rollbacks", async () => {
    const node = await calculator();
    const threads = async () => (await readdir(`/proc/${node.ready.pid}/task`)).length;
    await applyRelease({ root: node.root, release: node.v2, confirm: async () => true });
    await controlRequest(node.root, { cmd: "rollback" });
    const after1 = await threads();
    for (let i = 0; i < 10; i++) {
      await applyRelease({ root: node.root, release: "1.1.0", confirm: async () => true });
      expect(await get(node.port, "/calculate/2/2")).toBe("8");
      await controlRequest(node.root, { cmd: "rollback" });
    }
    expect(await threads()).toBeLessThanOrEqual(after1);
    expect(await get(node.port, "/calculate/2/2")).toBe("4");
  });
});
