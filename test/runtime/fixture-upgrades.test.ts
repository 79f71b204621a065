/**
 * Every fixture pair applied on a live node, up with the generated plan and back down with `rollback`,
 * with its effect checked each time from outside: HTTP answers, states migrated and migrated back,
 * supervisor children, applications started and stopped, env changed. The node's OS pid never changes.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import { get } from "../../src/net-helpers.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);

type Phase = "before" | "after" | "back";
interface Ctx {
  port: number;
  root: string;
  processes(): Promise<{ module: string; name: string | null }[]>;
  applications(): Promise<{ name: string; status: string }[]>;
}

const put = (port: number, key: string, value: string) => fetch(`http://127.0.0.1:${port}/entries/${key}`, { method: "PUT", body: value });

const cases: [string, string, string, string | undefined, (ctx: Ctx, phase: Phase) => Promise<void>][] = [
  ["calculator", "1.0.0", "1.1.0", "calculator", async ({ port }, phase) => expect(await get(port, "/calculate/2/2")).toBe(phase === "after" ? "8" : "4")],
  [
    "counter",
    "1.0.0",
    "2.0.0",
    "counter",
    async ({ port }, phase) => {
      if (phase === "before") for (let i = 0; i < 3; i++) await get(port, "/count/a");
      expect(await get(port, "/peek/a")).toBe(phase === "back" ? "4" : "3");
      if (phase === "after") expect(await get(port, "/count/a")).toBe("4");
    },
  ],
  ["functional-change", "1.0.0", "1.1.0", "greeter", async ({ port }, phase) => expect(await get(port, "/greet/ada")).toBe(phase === "after" ? "Good day, ada." : "Hello, ada!")],
  ["module-added", "1.0.0", "1.1.0", "greeter", async ({ port }, phase) => expect(await get(port, "/greet/ada")).toBe(phase === "after" ? "Hello, Ada!" : "Hello, ada!")],
  ["module-removed", "1.0.0", "1.1.0", "greeter", async ({ port }, phase) => expect(await get(port, "/greet/ada")).toBe(phase === "after" ? "Hello, ada!" : "Hello, Ada!")],
  ["dependency-order", "1.0.0", "1.1.0", "shop", async ({ port }, phase) => expect(await get(port, "/price/100")).toBe(phase === "after" ? "125" : "120")],
  ["env-changed", "1.0.0", "1.1.0", "greeter", async ({ port }, phase) => expect(await get(port, "/greet/abcdefghijklmnopqrstuvwxyz")).toBe(phase === "after" ? "hello, abcdefghijklmnopqrst!" : "hello, abcdefghij!")],
  [
    "hand-written-appup",
    "1.0.0",
    "1.1.0",
    "cache",
    async ({ port }, phase) => {
      if (phase === "before") {
        await put(port, "apple", "red");
        await put(port, "avocado", "green");
        await put(port, "banana", "yellow");
      }
      expect(await get(port, "/entries/avocado")).toBe("green");
      expect((await get(port, "/keys/a")).split("\n")).toEqual(["apple", "avocado"]);
    },
  ],
  [
    "supervisor-child",
    "1.0.0",
    "1.1.0",
    undefined,
    async (ctx, phase) => {
      const names = (await ctx.processes()).map((p) => p.name).filter(Boolean).sort();
      expect(names).toEqual(phase === "after" ? ["worker_a", "worker_c"] : ["worker_a", "worker_b"]);
    },
  ],
  [
    "application-added",
    "1.0.0",
    "1.1.0",
    undefined,
    async (ctx, phase) => {
      const running = (await ctx.applications()).filter((a) => a.status === "running").map((a) => a.name);
      expect(running).toEqual(phase === "after" ? ["core", "metrics"] : ["core"]);
      expect((await ctx.processes()).some((p) => p.module === "metrics/collector")).toBe(phase === "after");
    },
  ],
  [
    "application-removed",
    "1.0.0",
    "1.1.0",
    undefined,
    async (ctx, phase) => {
      const running = (await ctx.applications()).filter((a) => a.status === "running").map((a) => a.name);
      expect(running).toEqual(phase === "after" ? ["core"] : ["core", "audit"]);
    },
  ],
];

describe("every fixture pair, up and back down, on a live node", () => {
  it.each(cases)("%s %s → %s → back", async (fixture, from, to, app, check) => {
    const { root, port, ready, v2: next } = await liveNode({ from: path.join("fixtures", fixture, from), to: path.join("fixtures", fixture, to), ...(app ? { app } : {}) });
    const pid = ready.pid;
    const v2 = { tarball: next };
    const ctx: Ctx = {
      port,
      root,
      processes: async () => (await controlRequest(root, { cmd: "processes" })) as { module: string; name: string | null }[],
      applications: async () => ((await controlRequest(root, { cmd: "status" })) as { applications: { name: string; status: string }[] }).applications,
    };
    await check(ctx, "before");
    await applyRelease({ root, release: v2.tarball, confirm: async () => true });
    await check(ctx, "after");
    expect(await controlRequest(root, { cmd: "releases" })).toEqual([
      { name: fixture, version: from, status: "permanent" },
      { name: fixture, version: to, status: "current" },
    ]);
    await controlRequest(root, { cmd: "rollback" });
    await check(ctx, "back");
    expect(((await controlRequest(root, { cmd: "status" })) as { pid: number; release: { version: string } })).toMatchObject({ pid, release: { version: from } });
  });
});
