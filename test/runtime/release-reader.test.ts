/**
 * The release reader: an install's reading, hashing, verifying and compiling of its target release run in
 * a worker thread, so that the node's event loop keeps serving meanwhile; what it refuses reads as it did
 * when the node did the work on its own thread; one thread serves every job and ends when idle.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildRelease } from "../../src/release/build-release.ts";
import { ReleaseError } from "../../src/release/issues.ts";
import { generatePlan } from "../../src/relup/generate-plan.ts";
import type { RelupFile } from "../../src/relup/instruction.ts";
import { loadReleaseModel } from "../../src/relup/load-release-model.ts";
import { freePort, get } from "../../src/net-helpers.ts";
import { Node } from "../../src/runtime/node.ts";
import { readTarget } from "../../src/runtime/prepare-release.ts";
import { ReleaseHandler } from "../../src/runtime/release-handler.ts";
import { ReleaseReader } from "../../src/runtime/release-reader.ts";
import { releaseDirOf } from "../../src/runtime/releases-file.ts";
import { prepareRoot } from "../../src/runtime/start-release.ts";
import { replaceModule } from "../helpers/replace-module.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";
import type { RuntimeError } from "../../src/runtime/issues/runtime-error.ts";

const tempDir = useTempDirs();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const HELD_ENTRY = path.join(import.meta.dirname, "../helpers/held-reader-entry.mjs");

/** calculator 1.0.0 running in a node in this process, 1.1.0 unpacked in its root, and the plan between them. */
async function calculatorNode() {
  const dir = await tempDir();
  const out = path.join(dir, "build");
  const v1 = await buildRelease({ dir: "fixtures/calculator/1.0.0", out });
  const v2 = await buildRelease({ dir: "fixtures/calculator/1.1.0", out });
  const root = path.join(dir, "root");
  await prepareRoot(root, v1.tarball);
  await mkdir(path.join(root, "run"), { recursive: true });
  const port = await freePort();
  const node = new Node({ releaseDir: releaseDirOf(root, "1.0.0"), config: { calculator: { port } }, log: () => {} });
  await node.boot();
  cleanups.push(() => node.stop());
  const unpacking = new ReleaseHandler(node, root);
  await unpacking.unpack(v2.tarball);
  await unpacking.close();
  const generated = generatePlan(await loadReleaseModel(releaseDirOf(root, "1.0.0")), await loadReleaseModel(releaseDirOf(root, "1.1.0")));
  if (!generated.ok) throw new Error("no plan");
  return { root, port, node, plan: generated.value.file as RelupFile };
}

/** A reader whose thread waits for `open()` before it runs any job; `started` resolves when a job started it. */
function heldReader() {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  let started!: () => void;
  const starting = new Promise<void>((resolve) => (started = resolve));
  const reader = new ReleaseReader({ threadFromBytes: 0, entry: HELD_ENTRY, workerData: { gate }, onThread: (event) => event === "started" && started() });
  cleanups.push(() => reader.close());
  return {
    reader,
    started: starting,
    open: () => {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    },
  };
}

describe("the release reader", () => {
  it("an install's reading and checks run off the event loop: the node serves HTTP while they wait", async () => {
    const { root, port, node, plan } = await calculatorNode();
    const { reader, open, started } = heldReader();
    const handler = new ReleaseHandler(node, root, { reader });
    const steps: number[] = [];
    let settled = false;
    const installing = handler.install("1.1.0", plan, (event) => void (event.phase === "step" && steps.push(event.index))).finally(() => (settled = true));
    await started;
    // The prepare is waiting on the held thread: the node answers with the running code, no step has run.
    expect(await get(port, "/calculate/2/2")).toBe("4");
    expect(await get(port, "/calculate/3/4")).toBe("7");
    expect(reader.running).toBe(true);
    expect(settled).toBe(false);
    expect(steps).toEqual([]);
    open();
    const installed = await installing;
    expect(installed).toMatchObject({ from: "1.0.0", to: "1.1.0", direction: "up" });
    expect(steps.length).toBeGreaterThan(0);
    expect(await get(port, "/calculate/2/2")).toBe("8");
  });

  it("a small release is read on the node's own thread: the thread is not started for it", async () => {
    const { root, port, node, plan } = await calculatorNode();
    const reader = new ReleaseReader();
    cleanups.push(() => reader.close());
    const handler = new ReleaseHandler(node, root, { reader });
    await handler.install("1.1.0", plan);
    expect(await get(port, "/calculate/2/2")).toBe("8");
    expect(reader.started).toBe(0);
    expect(reader.jobs).toEqual({ thread: 0, here: 1 });
  });

  it("a module that does not compile fails the install in the same words whichever thread read it", async () => {
    const { root, node } = await calculatorNode();
    await replaceModule(releaseDirOf(root, "1.1.0"), { name: "calculator", version: "1.1.0" }, "calculator", "exports.calculate = (a, b) => ;\n");
    const generated = generatePlan(await loadReleaseModel(releaseDirOf(root, "1.0.0")), await loadReleaseModel(releaseDirOf(root, "1.1.0")));
    if (!generated.ok) throw new Error("no plan");
    const failures: unknown[] = [];
    for (const threadFromBytes of [0, Infinity]) {
      const reader = new ReleaseReader({ threadFromBytes });
      cleanups.push(() => reader.close());
      const error = (await new ReleaseHandler(node, root, { reader }).install("1.1.0", generated.value.file).catch((e: unknown) => e)) as RuntimeError;
      expect(reader.started).toBe(threadFromBytes === 0 ? 1 : 0);
      failures.push(error.issue);
    }
    expect(failures[0]).toMatchObject({ kind: "install-failed", op: "load_object_code", module: "calculator/calculator", cause: "calculator/calculator: does not compile: Unexpected token ';'", phase: "before-point-of-no-return" });
    expect(failures[1]).toEqual(failures[0]);
    expect(node.table.current("calculator/calculator")?.vsn).toBe(node.apps[0]!.modules.find((m) => m.name === "calculator")!.vsn);
  });

  it("refuses what the node's own reading refused, with the same issues", async () => {
    const { root } = await calculatorNode();
    const dir = releaseDirOf(root, "1.1.0");
    const manifest = path.join(dir, "release.json");
    const release = JSON.parse(await readFile(manifest, "utf8")) as { files: Record<string, string> };
    const [file] = Object.keys(release.files).filter((f) => f.endsWith(".js"));
    await writeFile(path.join(dir, file!), "module.exports = 'changed after the build';\n");
    const reader = new ReleaseReader({ threadFromBytes: 0 });
    cleanups.push(() => reader.close());
    const inThread = await reader.read(dir).catch((e: unknown) => e);
    expect(reader.started).toBe(1);
    const here = await readTarget(dir).catch((e: unknown) => e);
    expect(inThread).toBeInstanceOf(ReleaseError);
    expect((inThread as ReleaseError).issues).toEqual((here as ReleaseError).issues);
    expect((inThread as ReleaseError).issues).toEqual([expect.objectContaining({ code: "checksum-mismatch", entry: file })]);
    expect((inThread as Error).message).toBe((here as Error).message);
  });

  it("one thread serves every job, and it ends when idle; the next job starts another", async () => {
    const { root } = await calculatorNode();
    const events: string[] = [];
    let ended!: () => void;
    const end = new Promise<void>((resolve) => (ended = resolve));
    const reader = new ReleaseReader({ threadFromBytes: 0, idleMs: 20, onThread: (event) => void (events.push(event), event === "ended" && ended()) });
    cleanups.push(() => reader.close());
    const dir = releaseDirOf(root, "1.1.0");
    const reads = await Promise.all(Array.from({ length: 5 }, () => reader.read(dir)));
    for (let i = 0; i < 5; i++) await reader.read(dir);
    expect(new Set(reads.map((r) => r.identity)).size).toBe(1);
    expect(reader.started).toBe(1);
    await end;
    expect(reader.running).toBe(false);
    expect(events).toEqual(["started", "ended"]);
    expect((await reader.read(dir)).identity).toBe(reads[0]!.identity);
    expect(reader.started).toBe(2);
  });

  it("a job sent after close is refused, and close fails a job still waiting", async () => {
    const { root } = await calculatorNode();
    const { reader } = heldReader();
    const waiting = reader.read(releaseDirOf(root, "1.1.0")).catch((e: Error) => e);
    await reader.close();
    expect(((await waiting) as Error).message).toMatch(/stopping/);
    await expect(reader.read(releaseDirOf(root, "1.1.0"))).rejects.toThrow(/closed/);
  });
});
