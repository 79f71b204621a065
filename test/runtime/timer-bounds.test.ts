/**
 * Timeouts that release code gives the runtime are bounded like the ones a user writes: above 2^31−1 ms
 * Node's setTimeout fires after 1 ms, so a child's `shutdown` of 30 days would kill it at once, and a call
 * with a 30-day timeout would time out at once. Both are refused with the limit named.
 */
import { describe, expect, it } from "vitest";
import { startServer } from "../../src/runtime/server.ts";
import { startSupervisor } from "../../src/runtime/supervisor.ts";
import { testRuntime } from "../helpers/runtime.ts";
import { MAX_TIMEOUT_MS } from "../../src/appup/instruction.ts";
import { terminateTimeout } from "../../src/runtime/steps/stop-start.ts";

const THIRTY_DAYS = 30 * 24 * 3600 * 1000;
const WORKER = `exports.init = () => ({}); exports.handleCall = (req, from, state) => ({ reply: "ok", state });`;

describe("timers set from release code", () => {
  it("a child spec whose shutdown is above 2^31−1 ms is refused by the supervisor's init, naming the field", async () => {
    const sup = `exports.behaviour = "supervisor"; exports.init = () => ({ children: [{ id: "w", module: "worker", shutdown: ${THIRTY_DAYS} }] });`;
    const { runtime } = testRuntime({ "a/worker": WORKER, "a/sup": sup });
    const error = await startSupervisor(runtime, "a/sup", {}).catch((e: Error) => e);
    expect((error as Error).message).toContain(`a/sup.init returned invalid supervisor flags: children.0.shutdown: ${THIRTY_DAYS} ms is above the longest timer Node.js keeps (2147483647 ms, about 24.8 days)`);
  });

  it("a call whose timeout is above 2^31−1 ms is refused, not timed out after 1 ms", async () => {
    const { runtime } = testRuntime({ "a/worker": WORKER });
    const p = await startServer(runtime, "a/worker", {});
    const error = await runtime.call(p.pid, "x", THIRTY_DAYS).catch((e: Error) => e);
    expect((error as Error).message).toBe(`call timeout ${THIRTY_DAYS} ms is above the longest timer Node.js keeps (2147483647 ms, about 24.8 days). Fix: give at most 2147483647`);
    expect(await runtime.call(p.pid, "x", 2 ** 31 - 1)).toBe("ok");
  });
});

describe("timers the runtime derives from release code", () => {
  it("a stop step's wait for a child whose shutdown is near 2^31−1 ms stays within the longest timer", () => {
    expect(terminateTimeout(MAX_TIMEOUT_MS)).toBe(MAX_TIMEOUT_MS);
    expect(terminateTimeout(MAX_TIMEOUT_MS - 1000)).toBe(MAX_TIMEOUT_MS);
    expect(terminateTimeout("infinity")).toBe(MAX_TIMEOUT_MS);
    expect(terminateTimeout(1000)).toBe(6000);
  });
});
