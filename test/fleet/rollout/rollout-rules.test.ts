/** The rollout's pure rules: durations, the waves, and the soak's health comparison (tables and properties). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allowedIncrease, compareHealth } from "../../../src/fleet/rollout/compare-health.ts";
import { parseDuration } from "../../../src/fleet/rollout/parse-duration.ts";
import { parseWaveSize, planWaves } from "../../../src/fleet/rollout/plan-waves.ts";
import type { NodeHealth } from "../../../src/fleet/node-health.ts";

describe("parseDuration", () => {
  it.each([
    ["5m", 300_000],
    ["30s", 30_000],
    ["1500ms", 1500],
    ["1h", 3_600_000],
    ["0s", 0],
  ])("%s is %d ms", (text, ms) => expect(parseDuration("--soak", text)).toBe(ms));

  it.each(["5", "5 min", "1.5s", "-1s", "s", "", "10d"])("%j is a usage error naming the flag and the fix", (text) => {
    expect(() => parseDuration("--soak", text)).toThrow(/--soak ".*" is not a duration\. Fix: .*`--soak 5m`/);
    try {
      parseDuration("--soak", text);
    } catch (error) {
      expect((error as { exitCode: number }).exitCode).toBe(2);
    }
  });
});

describe("planWaves", () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${String(i).padStart(2, "0")}`);
  it.each([
    [5, 1, "25%", [["n00"], ["n01", "n02"], ["n03", "n04"]]],
    [5, 2, "1", [["n00", "n01"], ["n02"], ["n03"], ["n04"]]],
    [5, 0, "100%", [["n00", "n01", "n02", "n03", "n04"]]],
    [3, 5, "25%", [["n00", "n01", "n02"]]],
    [0, 1, "25%", []],
  ])("%d nodes, canary %d, waves %s", (n, canary, waves, expected) => expect(planWaves(ids(n), canary, waves)).toEqual(expected));

  it("sorts by id, whatever the order given", () => expect(planWaves(["c", "a", "b"], 1, "1")).toEqual([["a"], ["b"], ["c"]]));

  it("every node exactly once, in id order, canary first, no empty or oversized wave (property)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), { maxLength: 40 }), fc.nat(6), fc.oneof(fc.integer({ min: 1, max: 10 }).map(String), fc.integer({ min: 1, max: 100 }).map((p) => `${p}%`)), (nodes, canary, size) => {
        const waves = planWaves(nodes, canary, size);
        expect(waves.flat()).toEqual([...nodes].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        expect(waves.every((w) => w.length > 0)).toBe(true);
        if (canary > 0 && nodes.length > 0) expect(waves[0]!.length).toBe(Math.min(canary, nodes.length));
        expect(planWaves([...nodes].reverse(), canary, size)).toEqual(waves);
      }),
    );
  });

  it.each(["0", "0%", "101%", "x", "2.5", "-1"])("--waves %j is a usage error", (text) => expect(() => parseWaveSize(text)).toThrow(/--waves .* is not a wave size\. Fix:/));
  it.each(["1", "3", "25%", "100%"])("--waves %j is accepted", (text) => expect(parseWaveSize(text)).toBe(text));
});

describe("compareHealth", () => {
  const base: NodeHealth = { at: "2026-01-01T00:00:00Z", nodePid: 100, uptimeMs: 100_000, crashes: 0, restarts: 0, failedCalls: 0, loopP99Ms: 10, loopMaxMs: 20 };
  const read = (over: Partial<NodeHealth>): NodeHealth => ({ ...base, uptimeMs: 110_000, ...over });
  const soak = 10_000;

  it.each<[string, Partial<NodeHealth>[], RegExp | undefined]>([
    ["no change", [{}, {}], undefined],
    ["a crash where there was none", [{ crashes: 1 }], /n1: process crashes rose by 1 \(0 → 1\), 0 allowed over the soak/],
    ["a supervisor restart", [{ restarts: 1 }], /supervisor restarts rose by 1/],
    ["a failed call", [{ failedCalls: 2 }], /failed calls rose by 2/],
    ["another pid", [{ nodePid: 101 }], /n1 restarted \(pid 100 → 101\)/],
    ["uptime went back", [{ uptimeMs: 5 }], /n1 restarted \(uptime 5 ms/],
    ["one slow read", [{ loopP99Ms: 70 }, { loopP99Ms: 10 }, { loopP99Ms: 70 }], undefined],
    ["two slow reads in a row", [{ loopP99Ms: 70 }, { loopP99Ms: 61 }], /event-loop delay p99 61 ms in two reads in a row, above 60 ms \(baseline 10 ms\)/],
    ["p99 at the limit", [{ loopP99Ms: 60 }, { loopP99Ms: 60 }], undefined],
    ["an HTTP health failure", [{ http: { path: "/healthz", ok: 3, failed: 1, last: "HTTP 500" } }], /n1: \/healthz failed 1 time \(last failure: HTTP 500\)/],
    ["the last failure named, not the last answer", [{ http: { path: "/healthz", ok: 3, failed: 1, last: "HTTP 200", lastFailure: "HTTP 503" } }], /last failure: HTTP 503/],
    ["HTTP health all ok", [{ http: { path: "/healthz", ok: 3, failed: 0, last: "HTTP 200" } }], undefined],
  ])("%s", (_, reads, expected) => {
    const reason = compareHealth("n1", base, reads.map(read), soak);
    if (expected) expect(reason).toMatch(expected);
    else expect(reason).toBeUndefined();
  });

  it("--loop-slack widens the event loop's limit", () => {
    const slow = [read({ loopP99Ms: 300 }), read({ loopP99Ms: 300 })];
    expect(compareHealth("n1", base, slow, soak)).toMatch(/above 60 ms/);
    expect(compareHealth("n1", base, slow, soak, { loopSlackMs: 1000 })).toBeUndefined();
    expect(compareHealth("n1", base, [read({ loopP99Ms: 1011 }), read({ loopP99Ms: 1011 })], soak, { loopSlackMs: 1000 })).toMatch(/above 1010 ms/);
  });

  it("HTTP failures counted for an earlier rollout never count against this one", () => {
    const earlier = { path: "/healthz", rollout: "old-rollout", ok: 5, failed: 1, last: "HTTP 200", lastFailure: "HTTP 500" };
    const baseline = { ...base, http: earlier };
    // A read still of the earlier rollout's checks (the agent had not yet seen this one), then this one's.
    const reads = [read({ http: earlier }), read({ http: { path: "/healthz", rollout: "this-rollout", ok: 2, failed: 0, last: "HTTP 200" } })];
    expect(compareHealth("n1", baseline, reads, soak, { rolloutId: "this-rollout" })).toBeUndefined();
    // With no baseline for this rollout's checks, any failure of them counts.
    const failing = read({ http: { path: "/healthz", rollout: "this-rollout", ok: 2, failed: 1, last: "HTTP 200", lastFailure: "HTTP 500" } });
    expect(compareHealth("n1", baseline, [failing], soak, { rolloutId: "this-rollout" })).toMatch(/failed 1 time \(last failure: HTTP 500\)/);
  });

  it("a baseline with failures allows ceil(2 × rate × soak) more", () => {
    // 10 failed calls in 100 s: 0.1/s; over a 10 s soak, 2 × 1 = 2 allowed.
    const noisy = { ...base, failedCalls: 10 };
    expect(allowedIncrease(10, 100_000, soak)).toBe(2);
    expect(compareHealth("n1", noisy, [read({ failedCalls: 12 })], soak)).toBeUndefined();
    expect(compareHealth("n1", noisy, [read({ failedCalls: 13 })], soak)).toMatch(/failed calls rose by 3 \(10 → 13\), 2 allowed/);
  });

  it("the allowance is never below the increase of a rate twice the baseline's (property)", () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.integer({ min: 1, max: 10_000_000 }), fc.nat(1_000_000), (counter, uptime, soakMs) => {
        const allowed = allowedIncrease(counter, uptime, soakMs);
        expect(allowed).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(allowed)).toBe(true);
        if (counter === 0) expect(allowed).toBe(0);
        else expect(allowed).toBeGreaterThanOrEqual((2 * counter * soakMs) / uptime);
      }),
    );
  });
});
