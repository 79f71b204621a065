/**
 * The helpers of the pm2 side-by-side (bench/pm2-figures.ts): reading `pm2 jlist`, reading the polls
 * for the time to the new version, and the table. The bench itself (a pm2 daemon, two workers, a relup
 * node, autocannon) is run by `npm run bench`, not here.
 */
import { describe, expect, it } from "vitest";
import { settle, type Sample } from "../../bench/new-version.ts";
import { parsePm2List } from "../../bench/pm2/pm2-cli.ts";
import { sideBySideTable, type Side, type SideBySide } from "../../bench/pm2/side-by-side-table.ts";

/** One process of `pm2 jlist` as pm2 7 prints it, cut to a few of its fields (the env is much longer). */
const proc = (pmId: number, pid: number, status = "online") => ({
  pid,
  name: "calculator",
  pm2_env: { name: "calculator", env: { PORT: "45123" }, exec_mode: "cluster_mode", instances: 2, status, restart_time: 1, pm_id: pmId },
  pm_id: pmId,
  monit: { memory: 52_000_000, cpu: 0 },
});

describe("parsePm2List", () => {
  it("reads each worker's id, pid, status, mode and restarts", () => {
    const out = JSON.stringify([proc(0, 12330), proc(1, 12351)]) + "\n";
    expect(parsePm2List(out)).toEqual([
      { name: "calculator", id: 0, pid: 12330, status: "online", mode: "cluster_mode", restarts: 1 },
      { name: "calculator", id: 1, pid: 12351, status: "online", mode: "cluster_mode", restarts: 1 },
    ]);
  });

  it("skips pm2's own messages before the list, and reads an empty list", () => {
    const warning = "\u001b[33m[PM2][WARN]\u001b[39m Current process list is not synchronized with saved list.\n";
    expect(parsePm2List(warning + JSON.stringify([proc(0, 7, "stopping")]) + "\n").map((w) => w.status)).toEqual(["stopping"]);
    expect(parsePm2List("[]\n")).toEqual([]);
  });

  it("rejects output with no list, a list that is not JSON, or a process without a pid, saying which", () => {
    expect(() => parsePm2List("[PM2] Spawning PM2 daemon\n")).toThrow(/printed no JSON list of processes: "\[PM2\] Spawning/);
    expect(() => parsePm2List('[{"pid": 1,\n')).toThrow(/not JSON/);
    const { pid: _pid, ...noPid } = proc(0, 1);
    expect(() => parsePm2List(JSON.stringify([noPid]))).toThrow(/process 0\.pid: /);
  });
});

describe("settle", () => {
  const isNew = (answer: string) => answer === "8";
  /** polls sent every 10 ms, each answered 1 ms later */
  const samples = (...answers: (string | undefined)[]): Sample[] =>
    answers.map((answer, i) => ({ sentMs: i * 10, atMs: i * 10 + 1, answer, ...(answer === undefined ? { error: "ECONNRESET: socket hang up" } : {}) }));

  it("is the first new answer after the last old one: workers answering old and new in turn count until the last old one", () => {
    expect(settle(samples("4", "4", "8", "4", "8", "8", "8"), isNew)).toEqual({ settledMs: 41, polls: 7, old: 3, failed: 0, failures: [] });
  });

  it("counts a failed poll as not new, says when it was sent, and does not settle while the last answer is not new", () => {
    expect(settle(samples("4", "8", undefined, "8"), isNew)).toEqual({ settledMs: 31, polls: 4, old: 1, failed: 1, failures: ["sent at 20 ms: ECONNRESET: socket hang up"] });
    expect(settle(samples("8", "8", "4"), isNew).settledMs).toBeUndefined();
  });

  it("settles at the first poll when every answer is new", () => {
    expect(settle(samples("8", "8"), isNew).settledMs).toBe(1);
  });

  it("reads the polls in the order they were sent: a poll left unanswered for seconds does not hide the new answers sent after it", () => {
    const hung: Sample = { sentMs: 15, atMs: 5_015, answer: undefined, error: "no answer within 5000 ms" };
    const result = settle([...samples("4", "4", "8", "8", "8"), hung], isNew);
    expect(result.settledMs).toBe(21);
    expect(result.failures).toEqual(["sent at 15 ms: no answer within 5000 ms"]);
  });
});

describe("sideBySideTable", () => {
  const side = (counts: Side["counts"]): Side => ({
    steady: { requests: 20_000, failed: 0, p99: 3, max: 40 },
    upgrade: { requests: 19_000, failed: 2, p99: 5, max: 60, actionMs: 1234.5, failures: { ECONNRESET: 1, "request timed out": 1 } },
    newVersion: { settledMs: 1100.2, polls: 300, old: 250, failed: 1, failures: ["sent at 712 ms: no answer within 5000 ms"] },
    counts,
  });
  const table = sideBySideTable({
    seconds: 2,
    connections: 10,
    relup: side({ counted: 10, before: [10], after: [10], survived: true }),
    pm2: { ...side({ counted: 10, before: [5], after: [0], survived: false }), version: "7.0.4", workersBefore: [], workersAfter: [] },
  } satisfies SideBySide);

  it("has one column each for pm2, relup and OTP, and one row per figure", () => {
    expect(table[0]).toBe("| calculator 1.0.0 → 1.1.0 under load (autocannon, 10 connections) | pm2 7.0.4 reload, cluster mode, 2 workers | relup apply | OTP release_handler |");
    expect(table.slice(2).every((row) => row.split(" | ").length === 4)).toBe(true);
    expect(table).toContain("| failed requests (errors, timeouts, non-2xx) | 2 (0): ECONNRESET 1, request timed out 1 | 2 (0): ECONNRESET 1, request timed out 1 |  |");
    expect(table).toContain("| time until every answer comes from the new version | 1,100 ms (300 polls: 250 old answers, 1 failed: sent at 712 ms: no answer within 5000 ms) | 1,100 ms (300 polls: 250 old answers, 1 failed: sent at 712 ms: no answer within 5000 ms) |  |");
  });

  it("says whether the counts were kept, with what was read before and after", () => {
    expect(table).toContain("| counts held in memory | **lost**: 10 counted, read 5 before, 0 after | **kept**: 10 counted, read 10 before, 10 after |  |");
  });

  it("fills the OTP column only where OTP has a figure of its own", () => {
    const otp = table.slice(2).map((row) => row.split(" | ")[3]!.replace(/ \|$/, "").replace(/\|$/, "").trim());
    expect(otp.filter((cell) => cell !== "")).toEqual(["~1-2 ms: the longest stall of one client calling in a loop during a load_module upgrade"]);
  });
});
