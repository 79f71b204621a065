/**
 * A codeChange that does not settle in time: the runtime gives up on it after its timeout, leaves the
 * process's state as it was, and ignores whatever the abandoned migration settles with later (a value
 * or an error), so that a rolled-back process is never overwritten behind the install's back.
 */
import { describe, expect, it } from "vitest";
import { CodeChangeTimeout } from "../../src/runtime/runtime.ts";
import { startServer } from "../../src/runtime/server.ts";
import { testRuntime } from "../helpers/runtime.ts";

// The migration waits on a settle function the test holds (globalThis.settle), one per call.
const SLOW = `
exports.init = () => ({ n: 1 });
exports.handleCall = (req, from, state) => ({ reply: state, state });
exports.codeChange = (old, state) => new Promise((resolve, reject) => { globalThis.settle = { resolve, reject }; });
`;

type Settle = { resolve(value: unknown): void; reject(error: Error): void };
const settle = () => (globalThis as unknown as { settle: Settle }).settle;

async function suspendedServer() {
  const { runtime, clock } = testRuntime({ "a/slow": SLOW }, { manualClock: true });
  const proc = await startServer(runtime, "a/slow", {});
  await runtime.suspend(proc);
  return { runtime, clock, proc };
}

describe("codeChange timeout", () => {
  it("rejects with CodeChangeTimeout naming the process and the module; the state stays the old object", async () => {
    const { runtime, clock, proc } = await suspendedServer();
    const before = proc.state;
    const migrating = runtime.codeChangeNow(proc, 1, null, 300);
    clock.advance(300);
    const error = await Promise.resolve(migrating).catch((e: Error) => e);
    expect(error).toBeInstanceOf(CodeChangeTimeout);
    expect((error as Error).message).toBe(`codeChange of process ${proc.pid} (a/slow) did not settle within 300 ms`);
    expect(proc.state).toBe(before);
  });

  it("a late result is ignored: the abandoned migration cannot overwrite the state the process runs on", async () => {
    const { runtime, clock, proc } = await suspendedServer();
    const before = proc.state;
    const migrating = Promise.resolve(runtime.codeChangeNow(proc, 1, null, 300)).catch(() => undefined);
    clock.advance(300);
    await migrating;
    runtime.resume(proc);
    settle().resolve({ corrupted: true });
    await new Promise((resolve) => setImmediate(resolve));
    expect(proc.state).toBe(before);
    expect(await runtime.call(proc.pid, "get")).toEqual({ n: 1 });
  });

  it("a late failure is ignored too (no unhandled rejection)", async () => {
    const { runtime, clock, proc } = await suspendedServer();
    const migrating = Promise.resolve(runtime.codeChangeNow(proc, 1, null, 300)).catch(() => undefined);
    clock.advance(300);
    await migrating;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    settle().reject(new Error("late failure"));
    await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
    expect(proc.state).toEqual({ n: 1 });
  });

  it("a migration that settles in time is applied; 'infinity' waits as long as it takes", async () => {
    const { runtime, clock, proc } = await suspendedServer();
    const migrating = runtime.codeChangeNow(proc, 1, null, "infinity");
    clock.advance(10 ** 9);
    settle().resolve({ n: 2 });
    await migrating;
    expect(proc.state).toEqual({ n: 2 });
  });
});
