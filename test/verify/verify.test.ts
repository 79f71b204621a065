/**
 * `relup verify` on real builds: the fixtures (the counter verifies, the migration-bug pair fails with
 * its shrunk state pinned), and one small two-version project per thing a codeChange can get wrong.
 * Every run goes through the worker thread, as the CLI's does.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildRelease } from "../../src/relup/build-with-plans.ts";
import { planReleases } from "../../src/relup/plan-releases.ts";
import { renderPlanMarkdown } from "../../src/relup/render/render-markdown.ts";
import { renderPlanText } from "../../src/relup/render/render-text.ts";
import { planVerification } from "../../src/verify/render-report.ts";
import type { VerifyReport } from "../../src/verify/report.ts";
import { verifyExitCode, verifyReleases } from "../../src/verify/verify-releases.ts";
import { writeProject } from "../helpers/project.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";
import { config, DOWN, FIXTURES, NEW_SCHEMA, OLD_SCHEMA, only, useReleasePairs } from "../helpers/verify-pairs.ts";

const tempDir = useTempDirs();
const { fixturePair, storePair } = useReleasePairs(tempDir);

describe("relup verify", () => {
  it("counter: 1.0.0 → 2.0.0 verifies, up and back and down, with the counts of runs and the seed", async () => {
    const pair = await fixturePair("counter", "1.0.0", "2.0.0");
    const report = await verifyReleases({ ...pair, runs: 300, seed: 11 });
    expect(report).toMatchObject({ release: "counter", from: "1.0.0", to: "2.0.0", mode: "properties", seed: 11, runs: 300, uncopyable: [] });
    expect(only(report)).toMatchObject({ module: "counter/counter", oldVsn: 1, newVsn: 2, status: "verified", runs: { upAndBack: 300, down: 300, live: 0 }, lossy: false, failures: [] });
    expect(verifyExitCode(report, true)).toBe(0);
  });

  it("migration-bug: finds the crash on a contact without an e-mail address and shrinks it to one empty contact", async () => {
    const pair = await fixturePair("migration-bug", "1.0.0", "1.1.0");
    const report = await verifyReleases({ ...pair, seed: 1 });
    const m = only(report);
    expect(m.status).toBe("failed");
    expect(m.failures).toHaveLength(1);
    expect(m.failures[0]).toMatchObject({
      property: "up-and-back",
      check: "throws",
      direction: "up",
      message: "codeChange threw TypeError: Cannot read properties of undefined (reading 'toLowerCase')",
      counterexample: "{ contacts: Map(1) { '' => { name: '' } } }",
      seed: 1,
    });
    expect(verifyExitCode(report, false)).toBe(1);
  });

  it("the CLI prints the shrunk state and the replay command, and exits 1", async () => {
    const pair = await fixturePair("migration-bug", "1.0.0", "1.1.0");
    const run = await relup(["verify", pair.from, pair.to, "--seed", "1", "--format", "text"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("✗ contacts/book vsn 1 → 2: FAILED (1 failing state)");
    expect(run.stdout).toContain("up: codeChange threw TypeError: Cannot read properties of undefined (reading 'toLowerCase')");
    expect(run.stdout).toContain("{ contacts: Map(1) { '' => { name: '' } } }");
    expect(run.stdout).toContain(`replay: relup verify ${pair.from} ${pair.to} --seed 1`);
  });

  it("prints text off a terminal, JSON only with --format json or --json; the seed is fixed by default and printed, so two runs agree", async () => {
    const pair = await fixturePair("counter", "1.0.0", "2.0.0");
    const text = await relup(["verify", pair.from, pair.to, "--runs", "50"]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^counter 1\.0\.0 → 2\.0\.0: 1 stateful update, 1 verified, 0 failed, 0 unverified \(50 states per property, seed 1, \d+ ms\)$/);
    const reports = [];
    for (const flags of [["--json"], ["--format", "json"]]) {
      const json = await relup(["verify", pair.from, pair.to, "--runs", "50", ...flags]);
      const { ms: _ms, modules, ...report } = JSON.parse(json.stdout) as VerifyReport;
      reports.push({ ...report, modules: modules.map(({ ms: _m, ...m }) => m) });
    }
    expect(reports[0]).toMatchObject({ seed: 1, runs: 50 });
    expect(reports[1]).toEqual(reports[0]);
  });

  it("bad usage exits 2 with the fix, before anything runs", async () => {
    const run = (args: string[]) => relup(["verify", ...args]);
    const one = await run(["fixtures/counter/1.0.0"]);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain("verify needs two releases: the one running and the one to upgrade to. Fix: `relup verify <from> <to>`.");
    const runs = await run(["a.tar.gz", "b.tar.gz", "--runs", "0"]);
    expect(runs.code).toBe(2);
    expect(runs.stderr).toContain("--runs must be a whole number of at least 1, not 0");
    const missing = await run(["/nonexistent/a.tar.gz", "/nonexistent/b.tar.gz"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("/nonexistent/a.tar.gz");
  });

  it("a codeChange that changes its input is caught", async () => {
    const pair = await storePair(OLD_SCHEMA, NEW_SCHEMA + `export function codeChange(v, s) { ${DOWN} s.tags.push("x"); return { n: s.n, tags: s.tags.slice(0, -1), note: "" }; }\n`);
    const m = only(await verifyReleases({ ...pair, runs: 50, seed: 1 }));
    expect(m.failures[0]).toMatchObject({ check: "mutates-input", direction: "up", counterexample: "{ n: 0, tags: [] }", difference: { path: ".tags[0]", expected: "(absent)", actual: "'x'" } });
  });

  it("a codeChange that is not deterministic is caught", async () => {
    const pair = await storePair(OLD_SCHEMA, NEW_SCHEMA + `export function codeChange(v, s) { ${DOWN} return { ...s, note: String(Math.random()) }; }\n`);
    const m = only(await verifyReleases({ ...pair, runs: 50, seed: 1 }));
    expect(m.failures[0]).toMatchObject({ check: "not-deterministic", direction: "up", difference: { path: ".note" } });
  });

  it("a result the new stateSchema rejects is reported with zod's issue", async () => {
    const pair = await storePair(OLD_SCHEMA, NEW_SCHEMA + `export function codeChange(v, s) { ${DOWN} return { ...s, n: String(s.n), note: "" }; }\n`);
    const m = only(await verifyReleases({ ...pair, runs: 50, seed: 1 }));
    expect(m.failures[0]).toMatchObject({ check: "invalid-result", direction: "up", issues: [{ code: "invalid_type", path: ["n"] }], counterexample: "{ n: 0, tags: [] }" });
  });

  it("a round trip that loses data fails, unless the module declares lossyMigration", async () => {
    const lossyDown = `if (v && v.down === 1) return { n: s.n, tags: s.tags.filter((t) => t !== "") };\n`;
    const code = `export function codeChange(v, s) { ${lossyDown} return { ...s, note: "" }; }\n`;
    const strict = only(await verifyReleases({ ...(await storePair(OLD_SCHEMA, NEW_SCHEMA + code)), runs: 100, seed: 1 }));
    expect(strict.failures[0]).toMatchObject({ check: "round-trip", direction: "down", counterexample: "{ n: 0, tags: [ '' ] }", difference: { path: ".tags[0]", expected: "''", actual: "(absent)" } });
    const declared = only(await verifyReleases({ ...(await storePair(OLD_SCHEMA, NEW_SCHEMA + code + "export const lossyMigration = true;\n")), runs: 100, seed: 1 }));
    expect(declared).toMatchObject({ status: "verified", lossy: true });
  });

  it("states of the new version are migrated down too: a down migration that only copes with upgraded states fails", async () => {
    // The up migration always writes a note with a colon; a state made by the new code may have none.
    const code = `export function codeChange(v, s) {
      if (v && v.down === 1) { const [n] = s.note.split(":"); if (s.note.indexOf(":") < 0) throw new Error("no colon in " + JSON.stringify(s.note)); return { n: s.n, tags: s.tags }; }
      return { ...s, note: "n:" + s.n };
    }\n`;
    const m = only(await verifyReleases({ ...(await storePair(OLD_SCHEMA, NEW_SCHEMA + code)), runs: 100, seed: 1 }));
    expect(m.runs.upAndBack).toBe(100);
    expect(m.failures[0]).toMatchObject({ property: "down", check: "throws", direction: "down", counterexample: "{ n: 0, tags: [], note: '' }" });
  });

  it("a field the new schema fills in with a default, but codeChange leaves out, is caught", async () => {
    const schema = `export const stateSchema = z.object({ n: z.int(), tags: z.array(z.string()), at: z.number().default(0) });\n`;
    const code = `export function codeChange(v, s) { if (v && v.down === 1) return { n: s.n, tags: s.tags }; return { ...s }; }\n`;
    const m = only(await verifyReleases({ ...(await storePair(OLD_SCHEMA, schema + code)), runs: 20, seed: 1 }));
    expect(m.failures[0]).toMatchObject({ check: "invalid-result", direction: "up", message: expect.stringContaining("accepts only by changing it"), difference: { path: ".at", expected: "0", actual: "(absent)" } });
  });

  it("Sets of objects, Maps keyed by objects and formatted strings verify without false alarms", async () => {
    const oldSchema = `export const stateSchema = z.object({ tags: z.set(z.object({ id: z.string() })), by: z.map(z.object({ k: z.int() }), z.string().email()), at: z.date() });\n`;
    const newSchema = `export const stateSchema = z.object({ tags: z.set(z.object({ id: z.string() })), by: z.map(z.object({ k: z.int() }), z.string().email()), at: z.date(), v: z.literal(2) });\n`;
    const code = `export function codeChange(v, s) {
      const copy = { tags: new Set([...s.tags].map((t) => ({ ...t }))), by: new Map([...s.by].map(([k, e]) => [{ ...k }, e])), at: new Date(s.at.getTime()) };
      return v && v.down === 1 ? copy : { ...copy, v: 2 };
    }\n`;
    const m = only(await verifyReleases({ ...(await storePair(oldSchema, newSchema + code)), runs: 100, seed: 1 }));
    expect(m).toMatchObject({ status: "verified", failures: [] });
  });

  it("an async codeChange is awaited and verified", async () => {
    const pair = await storePair(OLD_SCHEMA, NEW_SCHEMA + `export async function codeChange(v, s) { await null; ${DOWN} return { ...s, note: "" }; }\n`);
    expect(only(await verifyReleases({ ...pair, runs: 50, seed: 1 })).status).toBe("verified");
  });

  it("codeChange reads the env as in a node: up the new release's, down the old one's", async () => {
    const dir = await tempDir();
    const withEnv = (version: string, limit: number) => ({ ...config(version), applications: [{ name: "demo", version, env: { limit } }] });
    const store = (vsn: number, limit: number) =>
      `import { z, getEnv } from "relup/runtime";\nexport const behaviour = "server";\nexport const vsn = ${vsn};\nexport function init() { return { n: 0, limit: getEnv("limit") }; }\n` +
      `export const stateSchema = z.object({ n: z.int(), limit: z.literal(${limit}) });\n` +
      (vsn === 2 ? `export function codeChange(v, s) { return { ...s, limit: getEnv("limit") }; }\n` : "");
    await writeProject(path.join(dir, "v1"), { config: withEnv("1.0.0", 10), files: { "apps/demo/store.ts": store(1, 10) } });
    await writeProject(path.join(dir, "v2"), { config: withEnv("1.1.0", 20), files: { "apps/demo/store.ts": store(2, 20) } });
    const a = await buildRelease({ dir: path.join(dir, "v1"), out: path.join(dir, "build") });
    const b = await buildRelease({ dir: path.join(dir, "v2"), out: path.join(dir, "build") });
    expect(only(await verifyReleases({ from: a.tarball, to: b.tarball, runs: 50, seed: 1 }))).toMatchObject({ status: "verified", failures: [] });
  });

  it("a module without stateSchema is unverified: exit 0, and 1 with --strict", async () => {
    const pair = await storePair("", NEW_SCHEMA + `export function codeChange(v, s) { return s; }\n`);
    const report = await verifyReleases({ ...pair, runs: 10 });
    expect(only(report)).toMatchObject({ status: "unverified", reason: expect.stringMatching(/^no stateSchema in 1\.0\.0\. Fix: export `stateSchema`/) });
    expect(verifyExitCode(report, false)).toBe(0);
    expect(verifyExitCode(report, true)).toBe(1);
  });

  it("a stateSchema that has no values to generate cannot be verified and says why (one that is not zod 4 fails the build: state-shape.test.ts)", async () => {
    const custom = only(await verifyReleases({ ...(await storePair(`export const stateSchema = z.object({ h: z.custom() });\n`, NEW_SCHEMA + `export function codeChange(v, s) { return s; }\n`)), runs: 10 }));
    expect(custom).toMatchObject({ status: "error", reason: expect.stringContaining("1.0.0: stateSchema.h: `z.custom`") });
  });

  it("user code runs in the worker: what a codeChange does to globals never reaches the caller's thread", async () => {
    const pair = await storePair(OLD_SCHEMA, NEW_SCHEMA + `globalThis.relupPolluted = "module"; export function codeChange(v, s) { globalThis.relupPolluted = "codeChange"; ${DOWN} return { ...s, note: "" }; }\n`);
    expect(only(await verifyReleases({ ...pair, runs: 20, seed: 1 })).status).toBe("verified");
    expect((globalThis as { relupPolluted?: unknown }).relupPolluted).toBeUndefined();
  });

  it.each([
    ["counter", "1.0.0", "2.0.0"],
    ["migration-bug", "1.0.0", "1.1.0"],
  ])("generate --verify: the plan of %s shows each state migration's result (golden plan.verified.md and .txt)", async (name, from, to) => {
    const pair = await fixturePair(name, from, to);
    const plan = await planReleases(pair);
    const verification = planVerification(await verifyReleases({ ...pair, runs: 200, seed: 1 }));
    const normalize = (text: string) => text.split(path.dirname(pair.from)).join("<build>");
    await expect(normalize(renderPlanMarkdown(plan, { verification }))).toMatchFileSnapshot(path.join(FIXTURES, name, "plan.verified.md"));
    await expect(normalize(renderPlanText(plan, { verification }))).toMatchFileSnapshot(path.join(FIXTURES, name, "plan.verified.txt"));
  });

  it("an upgrade without stateful updates has nothing to verify", async () => {
    const pair = await fixturePair("calculator", "1.0.0", "1.1.0");
    const report = await verifyReleases({ ...pair });
    expect(report.modules).toEqual([]);
    expect(verifyExitCode(report, true)).toBe(0);
  });
});
