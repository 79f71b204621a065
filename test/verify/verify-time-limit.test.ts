/**
 * `relup verify`'s time limit on each codeChange call, on real builds: a loop, a promise that never
 * settles, a loop after an await and a call that returns late are timeouts, and the modules around them
 * are still verified. (Apart from verify.test.ts: these tests mostly wait on the limit.)
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_TIME_LIMIT_MS, verifyReleases } from "../../src/verify/verify-releases.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";
import { DOWN, NEW_SCHEMA, OLD_SCHEMA, only, useReleasePairs } from "../helpers/verify-pairs.ts";

const tempDir = useTempDirs();
const { modulesPair, storePair } = useReleasePairs(tempDir);

/**
 * Tests of endless loops use the default time limit (1 s): so generous for the calls that return that
 * only the loops are timeouts, however loaded the machine (a 50 ms limit made a passing call a timeout
 * now and then). Each looping call costs the limit, so these tests keep them few: states with little
 * to shrink, and loops in one direction only.
 */
const LOOP_LIMIT_MS = DEFAULT_TIME_LIMIT_MS;
/** One state per version: nothing to shrink. */
const ONE_STATE = { old: `export const stateSchema = z.object({ n: z.literal(0) });\n`, new: `export const stateSchema = z.object({ n: z.literal(0), note: z.literal("") });\n` };
/** At most one tag, always "x": little to shrink. */
const FEW_STATES = { old: `export const stateSchema = z.object({ n: z.int(), tags: z.array(z.literal("x")).max(1) });\n`, new: `export const stateSchema = z.object({ n: z.int(), tags: z.array(z.literal("x")).max(1), note: z.literal("") });\n` };

describe("relup verify's time limit", () => {
  it("a codeChange that loops forever, or never settles, is stopped at the time limit", async () => {
    const timeout = { check: "timeout", direction: "up", message: `codeChange did not return within ${LOOP_LIMIT_MS} ms` };
    const verify = async (code: string) => only(await verifyReleases({ ...(await storePair(ONE_STATE.old, ONE_STATE.new + code)), runs: 5, seed: 1, timeLimitMs: LOOP_LIMIT_MS }));
    // Side by side (each in its own worker): the hang only waits.
    const [loop, hang] = await Promise.all([verify(`export function codeChange(v, s) { ${DOWN} for (;;) {} }\n`), verify(`export function codeChange(v, s) { ${DOWN} return new Promise(() => {}); }\n`)]);
    expect(loop).toMatchObject({ status: "failed", failures: [timeout] });
    expect(hang).toMatchObject({ status: "failed", failures: [timeout] });
  });

  it("after a loop stops the fast worker, the modules before it keep their results and those after it are verified", async () => {
    const good = `export function codeChange(v, s) { ${DOWN} return { ...s, note: "" }; }\n`;
    const loop = `export function codeChange(v, s) { ${DOWN} if (s.tags.length > 0) for (;;) {} return { ...s, note: "" }; }\n`;
    const report = await verifyReleases({ ...(await modulesPair({ a: good, b: loop, c: good }, FEW_STATES)), runs: 30, seed: 3, timeLimitMs: LOOP_LIMIT_MS });
    expect(report.modules.map((m) => [m.module, m.status])).toEqual([
      ["demo/a", "verified"],
      ["demo/b", "failed"],
      ["demo/c", "verified"],
    ]);
    // Found by the guarded worker, and shrunk there: n goes to 0, the tag that makes it loop stays.
    expect(report.modules[1]!.failures[0]).toMatchObject({ check: "timeout", direction: "up", counterexample: "{ n: 0, tags: [ 'x' ] }" });
  });

  it("an endless loop after an await is stopped too, and the module after it is still verified", async () => {
    const loop = `export async function codeChange(v, s) { await null; for (;;) {} }\n`;
    const good = `export function codeChange(v, s) { ${DOWN} return { ...s, note: "" }; }\n`;
    const report = await verifyReleases({ ...(await modulesPair({ a: loop, b: good })), runs: 10, seed: 1, timeLimitMs: LOOP_LIMIT_MS });
    expect(report.modules.map((m) => [m.module, m.status])).toEqual([
      ["demo/a", "failed"],
      ["demo/b", "verified"],
    ]);
    expect(report.modules[0]!.failures[0]).toMatchObject({ check: "timeout", message: expect.stringContaining("could not be interrupted"), counterexample: expect.stringContaining("tags") });
  });

  it("a call that returns, but later than the time limit, is a timeout", async () => {
    const slow = `export function codeChange(v, s) { const t = Date.now(); while (Date.now() - t < 80) {} ${DOWN} return { ...s, note: "" }; }\n`;
    const m = only(await verifyReleases({ ...(await storePair(OLD_SCHEMA, NEW_SCHEMA + slow)), runs: 3, seed: 1, timeLimitMs: 60 }));
    expect(m.failures[0]).toMatchObject({ check: "timeout", direction: "up" });
  });
});
