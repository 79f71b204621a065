/**
 * Every timeout a user writes is bounded by the longest timer Node.js keeps (2^31−1 ms, about 24.8 days):
 * above it, setTimeout fires after 1 ms, so 30 days would make every migration "time out" at once. The
 * appup and relup schemas refuse such a value naming the field and the fix ("infinity" for no limit), and
 * so does every command-line flag that sets a timer (exit 2, before anything is asked of a node).
 */
import { describe, expect, it } from "vitest";
import { parseAppup } from "../src/relup/shipped-plans.ts";
import { RelupFile } from "../src/relup/instruction.ts";
import { formatReleaseIssue } from "../src/release/issues.ts";
import { relup } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();
const THIRTY_DAYS = 30 * 24 * 3600 * 1000;
const MAX = 2 ** 31 - 1;

const appup = (update: object) => JSON.stringify({ format: 1, application: "cache", version: "1.1.0", up: [{ from: "1.0.0", instructions: [{ op: "update", module: "store", change: { advanced: {} }, ...update }] }], down: [] });

describe("timeouts above the longest timer", () => {
  it("an appup's codeChangeTimeout or timeout above 2^31−1 ms is refused, naming the file, the field and the fix", () => {
    for (const field of ["codeChangeTimeout", "timeout"]) {
      const { appup: parsed, issues } = parseAppup("apps/cache/appup.json", appup({ [field]: THIRTY_DAYS }), { name: "cache", version: "1.1.0" });
      expect(parsed).toBeUndefined();
      expect(issues.map(formatReleaseIssue)).toEqual([expect.stringContaining(`up[0].instructions[0].${field}`)]);
      expect(formatReleaseIssue(issues[0]!)).toContain(`${THIRTY_DAYS} ms is above the longest timer Node.js keeps (${MAX} ms, about 24.8 days); for no limit, write "infinity"`);
    }
    expect(parseAppup("apps/cache/appup.json", appup({ codeChangeTimeout: MAX, timeout: "infinity" }), { name: "cache", version: "1.1.0" }).issues).toEqual([]);
  });

  it("a plan's suspend or code_change timeout above it is refused too", () => {
    const stamp = { version: "1.0.0", identity: "a".repeat(64) };
    const plan = (up: object[]) => RelupFile.safeParse({ format: 1, release: "cache", from: stamp, to: { ...stamp, version: "1.1.0" }, up, down: [] });
    const suspend = plan([{ op: "point_of_no_return" }, { op: "suspend", modules: ["cache/store"], timeout: THIRTY_DAYS }]);
    expect(suspend.success).toBe(false);
    expect(suspend.error?.issues[0]).toMatchObject({ path: ["up", 1, "timeout"], code: "too_big" });
    const change = plan([{ op: "point_of_no_return" }, { op: "code_change", mode: "up", modules: [{ module: "cache/store", extra: null, timeout: THIRTY_DAYS }] }]);
    expect(change.error?.issues[0]).toMatchObject({ path: ["up", 1, "modules", 0, "timeout"], code: "too_big" });
  });

  it.each([
    [["apply", "1.1.0", "--code-change-timeout", String(THIRTY_DAYS)], `--code-change-timeout ${THIRTY_DAYS} is above the longest timer Node.js keeps (${MAX} ms, about 24.8 days). Fix: give at most ${MAX}, or "infinity" for no limit.`],
    [["rollback", "--code-change-timeout", String(THIRTY_DAYS)], `--code-change-timeout ${THIRTY_DAYS} is above the longest timer Node.js keeps`],
    [["start", "--heartbeat-timeout", String(THIRTY_DAYS)], `--heartbeat-timeout ${THIRTY_DAYS} is above the longest timer Node.js keeps`],
    [["verify", "a", "b", "--time-limit", String(THIRTY_DAYS)], `--time-limit ${THIRTY_DAYS} is above the longest timer Node.js keeps`],
  ])("relup %j is bad usage (exit 2), and nothing is asked of a node", async (args, message) => {
    const root = await tempDir();
    const r = await relup([...args, ...(args[0] === "verify" ? [] : ["--root", root])]);
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
  });
});
