/**
 * A server whose state changes shape while it keeps its `vsn` would be updated soft, and its processes
 * would keep states of the old shape. The build records the structure of each server's `stateSchema`
 * (`stateShape` in app.json); generation compares the two and stops on a difference; `relup verify`
 * checks every soft update against the new schema; a soft update without schemas is a risk of the plan.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ReleaseError } from "../../src/release/issues.ts";
import { buildRelease } from "../../src/relup/build-with-plans.ts";
import { planReleases } from "../../src/relup/plan-releases.ts";
import { renderPlanText } from "../../src/relup/render/render-text.ts";
import { verifyExitCode, verifyReleases } from "../../src/verify/verify-releases.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { writeProject } from "../helpers/project.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

const config = (version: string) => ({ format: 1, name: "demo", version, applications: [{ name: "demo", version }] });

/** `demo/store`, a server declaring `vsn = 2` in both versions, with the given schema and a body. */
const store = (schema: string, body = "") =>
  `import { z } from "relup/runtime";\nexport const behaviour = "server";\nexport const vsn = 2;\n${schema}export function init() { return { name: "", visits: 0 }; }\nexport function handleCall(r, f, s) { ${body}return { reply: s, state: s }; }\n`;

async function pair(oldStore: string, newStore: string): Promise<{ from: string; to: string; dir: string }> {
  const dir = await tempDir();
  const out = path.join(dir, "build");
  await writeProject(path.join(dir, "v1"), { config: config("1.0.0"), files: { "apps/demo/store.ts": oldStore } });
  await writeProject(path.join(dir, "v2"), { config: config("1.1.0"), files: { "apps/demo/store.ts": newStore } });
  const a = await buildRelease({ dir: path.join(dir, "v1"), out });
  const b = await buildRelease({ dir: path.join(dir, "v2"), out });
  return { from: a.tarball, to: b.tarball, dir: out };
}

const SCHEMA = `export const stateSchema = z.object({ name: z.string(), visits: z.int().min(0) });\n`;
const RENAMED = `export const stateSchema = z.object({ title: z.string(), visits: z.int().min(0) });\n`;

describe("state shapes", () => {
  it("the build records the structure of a server's stateSchema in app.json", async () => {
    const built = await pair(store(SCHEMA), store(SCHEMA, "s.visits++; "));
    const app = JSON.parse(await readFile(path.join(built.dir, "demo-1.0.0", "lib", "demo-1.0.0", "app.json"), "utf8"));
    expect(app.modules[0]).toMatchObject({
      name: "store",
      stateShape: { type: "object", fields: { name: { type: "string" }, visits: { type: "number" } } },
    });
  });

  it("a field renamed while vsn stays 2 stops generation with the module, the difference and the fix (exit 1)", async () => {
    const p = await pair(store(SCHEMA), store(RENAMED));
    const run = await relup(["generate", p.from, p.to, "--format", "text"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("server `demo/store` keeps vsn 2 but the shape of its state changed");
    expect(run.stderr).toContain("at .name: was string, now absent");
    expect(run.stderr).toContain("Fix: bump `vsn` (to 3) and export `codeChange`");
    const verify = await relup(["verify", p.from, p.to, "--strict"]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain("server `demo/store` keeps vsn 2 but the shape of its state changed");
  });

  it("a server without a declared vsn and without codeChange whose state shape changed is refused too", async () => {
    const undeclared = (schema: string) => store(schema).replace("export const vsn = 2;\n", "");
    const p = await pair(undeclared(SCHEMA), undeclared(RENAMED));
    await expect(planReleases(p)).rejects.toThrow(/server `demo\/store` declares no vsn, and the shape of its state changed[^]*at \.name: was string, now absent[^]*Fix: declare `export const vsn = 2`/);
  });

  it("a soft update keeps the state as it is: verify checks old states against the new schema, and new ones against the old", async () => {
    // The same shape, but the new version accepts only non-empty names: states holding "" do not fit it.
    const tighter = `export const stateSchema = z.object({ name: z.string().min(1), visits: z.int().min(0) });\n`;
    const p = await pair(store(SCHEMA), store(tighter));
    expect(renderPlanText(await planReleases(p))).toContain("update `store` (soft)");
    const report = await verifyReleases({ ...p, runs: 50, seed: 1 });
    expect(report.modules).toHaveLength(1);
    expect(report.modules[0]).toMatchObject({ module: "demo/store", change: "soft", oldVsn: 2, newVsn: 2, status: "failed" });
    expect(report.modules[0]!.failures[0]).toMatchObject({
      property: "up",
      check: "invalid-kept-state",
      direction: "up",
      counterexample: "{ name: '', visits: 0 }",
      issues: [expect.objectContaining({ path: ["name"], code: "too_small" })],
    });
    expect(verifyExitCode(report, false)).toBe(1);

    const same = await verifyReleases({ ...(await pair(store(SCHEMA), store(SCHEMA, "s.visits++; "))), runs: 50, seed: 1 });
    expect(same.modules[0]).toMatchObject({ module: "demo/store", change: "soft", status: "verified", runs: { up: 50, down: 50 } });
  });

  it("without schemas a soft update's state shape is a risk of the plan, unverified, and a failure with --strict", async () => {
    const p = await pair(store(""), store("", "s.visits++; "));
    const text = renderPlanText(await planReleases(p));
    expect(text).toContain("`demo/store` is updated soft (its state is kept as it is), but the shape of its state is unchecked: no stateSchema in 1.0.0 nor in 1.1.0");
    const report = await verifyReleases({ ...p, runs: 10 });
    expect(report.modules[0]).toMatchObject({ module: "demo/store", change: "soft", status: "unverified" });
    expect(verifyExitCode(report, false)).toBe(0);
    const strict = await relup(["verify", p.from, p.to, "--strict", "--format", "text"]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).not.toContain("nothing to verify");
    expect(strict.stdout).toContain("? demo/store vsn 2 (soft)");
  });

  it("a stateSchema that is not a zod 4 schema, or whose module fails to load, fails the build naming the file", async () => {
    const dir = await tempDir();
    await writeProject(dir, { config: config("1.0.0"), files: { "apps/demo/store.ts": store(`export const stateSchema = { type: "object" };\n`) } });
    const error = await buildRelease({ dir, out: path.join(dir, "build") }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as Error).message).toContain("apps/demo/store.ts: stateSchema: is not a zod 4 schema");

    const throws = await tempDir();
    await writeProject(throws, { config: config("1.0.0"), files: { "apps/demo/store.ts": store(SCHEMA) + `throw new Error("no config here");\n` } });
    const failed = await buildRelease({ dir: throws, out: path.join(throws, "build") }).then(() => undefined, (e: unknown) => e);
    expect((failed as Error).message).toMatch(/apps\/demo\/store\.ts: stateSchema: cannot be read: .*no config here/);
  });

  it("--live: a soft update's live states must fit the new schema as they are", async () => {
    const dir = await tempDir();
    const files = (storeCode: string) => ({
      "apps/demo/app.ts": `import { startSupervisor } from "relup/runtime";\nexport const behaviour = "application";\nexport function start() { return startSupervisor("demo/sup", {}); }\n`,
      "apps/demo/sup.ts": `export const behaviour = "supervisor";\nexport function init() { return { strategy: "one_for_one", intensity: 1, period: 5, children: [{ id: "store", module: "store", name: "store", args: {}, modules: ["store"] }] }; }\n`,
      "apps/demo/store.ts": storeCode,
    });
    const withStart = (version: string) => ({ format: 1, name: "demo", version, applications: [{ name: "demo", version, start: "app" }] });
    const tighter = `export const stateSchema = z.object({ name: z.string().min(1), visits: z.int().min(0) });\n`;
    const from = await writeProject(path.join(dir, "v1"), { config: withStart("1.0.0"), files: files(store(SCHEMA)) });
    const to = await writeProject(path.join(dir, "v2"), { config: withStart("1.1.0"), files: files(store(tighter)) });
    const node = await liveNode({ from, to, dir });
    const report = await verifyReleases({ from: node.v1, to: node.v2, runs: 20, seed: 1, live: { root: node.root } });
    const m = report.modules.find((x) => x.module === "demo/store")!;
    expect(m).toMatchObject({ change: "soft", status: "failed", runs: { live: 1 } });
    expect(m.failures.find((f) => f.property === "live")).toMatchObject({
      check: "invalid-kept-state",
      direction: "up",
      name: "store",
      counterexample: "{ name: '', visits: 0 }",
      message: "a soft update keeps the state as it is (no codeChange runs), and the new version's stateSchema rejects it",
    });
  });
});
